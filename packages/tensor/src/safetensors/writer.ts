import { ShortvError } from '../errors.ts';
import { BYTES_PER_ELEMENT, type Tensor } from '../tensor.ts';
import { DTYPE_TO_SAFETENSORS } from './header.ts';

/**
 * Serialises tensors to the safetensors format. Tensors are laid out widest dtype first, then by
 * name, and the header is padded with spaces to a multiple of 8 bytes, so every tensor starts at an
 * offset aligned for its dtype and the output is deterministic.
 */
export function writeSafetensors(
  tensors: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const entries: [string, Tensor][] =
    tensors instanceof Map
      ? [...tensors.entries()]
      : Object.entries(tensors as Readonly<Record<string, Tensor>>);
  for (const [name] of entries) {
    if (name === '__metadata__') {
      throw new ShortvError(
        'E_SAFETENSORS_NAME',
        "'__metadata__' is reserved by the format and cannot name a tensor",
      );
    }
  }
  entries.sort(
    ([nameA, a], [nameB, b]) =>
      BYTES_PER_ELEMENT[b.dtype] - BYTES_PER_ELEMENT[a.dtype] || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0),
  );

  // Built as text rather than through an object so integer-like names keep this order.
  const fields: string[] = [];
  if (metadata !== undefined) {
    const metaFields: string[] = [];
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new ShortvError(
          'E_SAFETENSORS_METADATA',
          `metadata value for '${key}' must be a string, got ${typeof value}`,
        );
      }
      metaFields.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    fields.push(`"__metadata__":{${metaFields.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const end = offset + t.data.byteLength;
    const shape = JSON.stringify(t.dims);
    fields.push(
      `${JSON.stringify(name)}:{"dtype":"${DTYPE_TO_SAFETENSORS[t.dtype]}","shape":${shape},"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of entries) {
    out.set(t.bytes(), at);
    at += t.data.byteLength;
  }
  return out;
}
