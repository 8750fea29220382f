/* safetensors.js — a small safetensors reader (and writer) for the node tests.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
 * then the data; offsets are relative to the end of the header.
 * Every tensor is returned as Float32Array (floats) or Int32Array/BigInt64Array
 * (ints) in a new buffer, so nothing depends on alignment.
 */

const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function f16ToF32(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Parses safetensors bytes.
 * @param {Uint8Array} bytes
 * @returns {{metadata: object, tensors: Map<string, {dtype: string, shape: number[], data: Float32Array|Int32Array|BigInt64Array|Uint8Array}>}}
 */
export function readSafetensors(bytes) {
  if (bytes.length < 8) throw new Error(`safetensors: ${bytes.length} bytes is too short for the header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`safetensors: header of ${n} bytes runs past the end (${bytes.length} bytes)`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const base = 8 + n;
  const tensors = new Map();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [b, e] } = info;
    const size = DTYPE_BYTES[dtype];
    if (!size) throw new Error(`safetensors: ${name}: unsupported dtype ${dtype}`);
    const numel = shape.reduce((a, x) => a * x, 1);
    if (e - b !== numel * size || base + e > bytes.length) throw new Error(`safetensors: ${name}: bad data_offsets [${b}, ${e}]`);
    const raw = new Uint8Array(e - b); // a copy: aligned and owned (Buffer.slice would be a view)
    raw.set(bytes.subarray(base + b, base + e));
    const rv = new DataView(raw.buffer);
    let data;
    switch (dtype) {
      case 'F32': data = new Float32Array(raw.buffer); break;
      case 'F64': data = Float32Array.from(new Float64Array(raw.buffer)); break;
      case 'F16': data = Float32Array.from({ length: numel }, (_, i) => f16ToF32(rv.getUint16(2 * i, true))); break;
      case 'BF16': {
        const bits = new Uint32Array(numel);
        for (let i = 0; i < numel; i++) bits[i] = rv.getUint16(2 * i, true) << 16;
        data = new Float32Array(bits.buffer);
        break;
      }
      case 'I32': data = new Int32Array(raw.buffer); break;
      case 'I64': data = new BigInt64Array(raw.buffer); break;
      case 'I16': data = Int32Array.from(new Int16Array(raw.buffer)); break;
      case 'I8': data = Int32Array.from(new Int8Array(raw.buffer)); break;
      default: data = raw;
    }
    tensors.set(name, { dtype, shape, data });
  }
  return { metadata: header.__metadata__ || {}, tensors };
}

/** Integer tensor data as plain numbers (I64 included). */
export function toNumbers(data) {
  return Array.from(data, (x) => Number(x));
}

/**
 * Writes F32 tensors as safetensors bytes (for building bad inputs in tests).
 * @param {Record<string, {shape: number[], data: Float32Array}>} tensors
 */
export function writeSafetensors(tensors, metadata) {
  const header = {};
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  if (metadata) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}
