import { describe, expect, it } from 'vitest';
import { createFrameSizeGuard } from '../../../../local/gateway/frame-size-guard.js';

/** A masked client frame, as a browser would send it. */
function clientFrame(opcode: number, payloadLength: number, fin = true): Buffer {
  const lengthBytes =
    payloadLength < 126
      ? Buffer.from([0x80 | payloadLength])
      : payloadLength < 65_536
        ? Buffer.from([0x80 | 126, payloadLength >> 8, payloadLength & 0xff])
        : (() => {
            const b = Buffer.alloc(9);
            b.writeUInt8(0x80 | 127, 0);
            b.writeBigUInt64BE(BigInt(payloadLength), 1);
            return b;
          })();
  return Buffer.concat([
    Buffer.from([(fin ? 0x80 : 0) | opcode]),
    lengthBytes,
    Buffer.from([1, 2, 3, 4]),
    Buffer.alloc(payloadLength, 0x61),
  ]);
}

function feed(guard: (chunk: Buffer) => void, bytes: Buffer, chunkSize: number): void {
  for (let offset = 0; offset < bytes.length; offset += chunkSize) guard(bytes.subarray(offset, offset + chunkSize));
}

describe('createFrameSizeGuard', () => {
  it('reports the first data frame over the limit, even when bytes arrive one at a time', () => {
    const seen: Array<{ opcode: number; payloadLength: number }> = [];
    const guard = createFrameSizeGuard(32_768, (frame) => seen.push(frame));
    const stream = Buffer.concat([clientFrame(0x1, 10), clientFrame(0x1, 32_768), clientFrame(0x1, 40_000)]);
    feed(guard, stream, 1);
    expect(seen).toEqual([{ opcode: 0x1, payloadLength: 40_000 }]);
  });

  it('checks every fragment of a fragmented message on its own', () => {
    const seen: number[] = [];
    const guard = createFrameSizeGuard(32_768, (frame) => seen.push(frame.payloadLength));
    const fragments = [clientFrame(0x1, 30_000, false), clientFrame(0x0, 30_000, false), clientFrame(0x0, 30_000)];
    feed(guard, Buffer.concat(fragments), 4096);
    expect(seen).toEqual([]);
    feed(guard, clientFrame(0x0, 70_000), 1000);
    expect(seen).toEqual([70_000]);
  });

  it('ignores control frames and follows 64-bit lengths', () => {
    const seen: number[] = [];
    const guard = createFrameSizeGuard(32_768, (frame) => seen.push(frame.payloadLength));
    feed(guard, Buffer.concat([clientFrame(0x9, 4), clientFrame(0x2, 70_000)]), 7);
    expect(seen).toEqual([70_000]);
  });
});
