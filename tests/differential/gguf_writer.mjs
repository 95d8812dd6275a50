// A small GGUF v3 writer for the differential test: it writes the header, the metadata and the
// tensor infos of a model, then extends the file to its full size with ftruncate, so the tensor
// data is a hole (all zeros, no disk blocks). Zero bytes are a valid block for every ggml type.
//
// Layout (ggml/docs/gguf.md and ggml/src/gguf.cpp, gguf_write_out): magic "GGUF", version 3,
// n_tensors (u64), n_kv (u64); the key/value pairs; one tensor info per tensor (name, n_dims,
// ne[0..n_dims-1] as u64, ggml type as u32, offset of its data relative to the data section as
// u64); zero padding to the alignment; the data, each tensor starting on a multiple of the
// alignment (general.alignment, 32 by default).

import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';

/// ggml types: id (ggml.h enum, the on-disk id), block elements and block bytes (ggml.c
/// type_traits; ggml-common.h block structs).
export const GGML_TYPES = {
  F32: { id: 0, blck: 1, bytes: 4 },
  F16: { id: 1, blck: 1, bytes: 2 },
  Q4_0: { id: 2, blck: 32, bytes: 18 },
  Q4_1: { id: 3, blck: 32, bytes: 20 },
  Q5_0: { id: 6, blck: 32, bytes: 22 },
  Q5_1: { id: 7, blck: 32, bytes: 24 },
  Q8_0: { id: 8, blck: 32, bytes: 34 },
  Q2_K: { id: 10, blck: 256, bytes: 84 },
  Q3_K: { id: 11, blck: 256, bytes: 110 },
  Q4_K: { id: 12, blck: 256, bytes: 144 },
  Q5_K: { id: 13, blck: 256, bytes: 176 },
  Q6_K: { id: 14, blck: 256, bytes: 210 },
  BF16: { id: 30, blck: 1, bytes: 2 },
};

/// Bytes of a contiguous tensor: ggml_nbytes = row_size(ne0) x ne1 x ne2 x ...
export function tensorBytes(typeName, ne) {
  const t = GGML_TYPES[typeName];
  if (!t) throw new Error(`gguf_writer: unknown ggml type ${typeName}`);
  if (ne[0] % t.blck !== 0) throw new Error(`gguf_writer: row of ${ne[0]} values is not a multiple of ${typeName}'s block ${t.blck}`);
  let rows = 1;
  for (let i = 1; i < ne.length; i++) rows *= ne[i];
  return (ne[0] / t.blck) * t.bytes * rows;
}

const pad = (n, a) => Math.ceil(n / a) * a;

// GGUF metadata value types (gguf.h enum gguf_type).
const T = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9, u64: 10, i64: 11, f64: 12 };

/// Typed metadata values: the writer cannot guess u32 from f32 from a JS number.
export const u32 = (v) => ({ type: 'u32', v });
export const i32 = (v) => ({ type: 'i32', v });
export const f32 = (v) => ({ type: 'f32', v });
export const bool = (v) => ({ type: 'bool', v });
export const str = (v) => ({ type: 'str', v });
export const arr = (elemType, v) => ({ type: 'arr', elemType, v });

/// Appends little-endian values to a growing list of buffers.
class Sink {
  constructor() {
    this.parts = [];
    this.length = 0;
  }
  push(buf) {
    this.parts.push(buf);
    this.length += buf.length;
  }
  scalar(type, v) {
    let b;
    switch (type) {
      case 'u8': b = Buffer.alloc(1); b.writeUInt8(v); break;
      case 'i8': b = Buffer.alloc(1); b.writeInt8(v); break;
      case 'u16': b = Buffer.alloc(2); b.writeUInt16LE(v); break;
      case 'i16': b = Buffer.alloc(2); b.writeInt16LE(v); break;
      case 'u32': b = Buffer.alloc(4); b.writeUInt32LE(v); break;
      case 'i32': b = Buffer.alloc(4); b.writeInt32LE(v); break;
      case 'f32': b = Buffer.alloc(4); b.writeFloatLE(v); break;
      case 'bool': b = Buffer.alloc(1); b.writeUInt8(v ? 1 : 0); break;
      case 'u64': b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); break;
      case 'i64': b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); break;
      case 'f64': b = Buffer.alloc(8); b.writeDoubleLE(v); break;
      default: throw new Error(`gguf_writer: unknown scalar type ${type}`);
    }
    this.push(b);
  }
  string(s) {
    const bytes = Buffer.from(s, 'utf8');
    this.scalar('u64', bytes.length);
    this.push(bytes);
  }
  /// Numeric arrays in one buffer (a 256k-entry score array is one allocation, not 256k).
  numbers(type, values) {
    const size = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, u64: 8, i64: 8, f64: 8 }[type];
    const b = Buffer.alloc(size * values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      switch (type) {
        case 'f32': b.writeFloatLE(v, i * 4); break;
        case 'i32': b.writeInt32LE(v, i * 4); break;
        case 'u32': b.writeUInt32LE(v, i * 4); break;
        case 'bool': case 'u8': b.writeUInt8(v ? Number(v) : 0, i); break;
        default: throw new Error(`gguf_writer: array of ${type} not supported`);
      }
    }
    this.push(b);
  }
}

/// Writes a GGUF file whose tensor data is a hole. `metadata` is a list of [key, typedValue];
/// `tensors` a list of {name, ne, type}. Returns the byte layout so a test can check it.
export function writeGguf(path, { metadata, tensors, alignment = 32 }) {
  const s = new Sink();
  s.push(Buffer.from('GGUF', 'ascii'));
  s.scalar('u32', 3);
  s.scalar('u64', tensors.length);
  s.scalar('u64', metadata.length);
  for (const [key, value] of metadata) {
    s.string(key);
    s.scalar('u32', T[value.type]);
    if (value.type === 'str') {
      s.string(value.v);
    } else if (value.type === 'arr') {
      s.scalar('u32', T[value.elemType]);
      s.scalar('u64', value.v.length);
      if (value.elemType === 'str') {
        for (const item of value.v) s.string(item);
      } else {
        s.numbers(value.elemType, value.v);
      }
    } else {
      s.scalar(value.type, value.v);
    }
  }
  let offset = 0;
  let tensorDataBytes = 0;
  const layout = [];
  for (const t of tensors) {
    const bytes = tensorBytes(t.type, t.ne);
    s.string(t.name);
    s.scalar('u32', t.ne.length);
    for (const d of t.ne) s.scalar('u64', d);
    s.scalar('u32', GGML_TYPES[t.type].id);
    s.scalar('u64', offset);
    layout.push({ name: t.name, type: t.type, ne: t.ne, offset, bytes });
    tensorDataBytes += bytes;
    offset += pad(bytes, alignment);
  }
  const dataStart = pad(s.length, alignment);
  s.push(Buffer.alloc(dataStart - s.length));
  const fileBytes = dataStart + offset;
  const fd = openSync(path, 'w');
  try {
    for (const part of s.parts) writeSync(fd, part);
    ftruncateSync(fd, fileBytes);  // the data section: a hole that reads as zeros
  } finally {
    closeSync(fd);
  }
  return { fileBytes, dataStart, tensorDataBytes, paddedDataBytes: offset, tensors: layout };
}
