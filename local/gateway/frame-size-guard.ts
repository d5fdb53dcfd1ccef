/**
 * Follows the raw client→server byte stream of a WebSocket, frame header by frame header, and calls
 * `onOversize` once for the first data frame whose payload is longer than `maxFramePayloadBytes`.
 *
 * Why this exists: API Gateway limits a frame to 32 KB and a message to 128 KB. `ws` only knows
 * `maxPayload`, which limits whole (reassembled) messages, so the frame limit is checked here, on
 * the same bytes `ws` reads. The guard only reads headers and skips payloads; `ws` still does the
 * real parsing. Register it with `socket.prependListener('data', guard)` right after the upgrade,
 * so it sees every byte `ws` sees and sees it first.
 */
export function createFrameSizeGuard(
  maxFramePayloadBytes: number,
  onOversize: (frame: { opcode: number; payloadLength: number }) => void,
): (chunk: Buffer) => void {
  // 2 fixed bytes + up to 8 bytes of extended length + 4 bytes of mask.
  const header = Buffer.alloc(14);
  let headerFilled = 0;
  let payloadRemaining = 0;
  let tripped = false;

  return (chunk: Buffer) => {
    let offset = 0;
    while (!tripped && offset < chunk.length) {
      if (payloadRemaining > 0) {
        const skipped = Math.min(payloadRemaining, chunk.length - offset);
        payloadRemaining -= skipped;
        offset += skipped;
        continue;
      }
      header.writeUInt8(chunk.readUInt8(offset), headerFilled);
      headerFilled += 1;
      offset += 1;
      if (headerFilled < 2) continue;

      const lengthByte = header.readUInt8(1);
      const shortLength = lengthByte & 0x7f;
      const extendedBytes = shortLength === 126 ? 2 : shortLength === 127 ? 8 : 0;
      const maskBytes = lengthByte & 0x80 ? 4 : 0;
      if (headerFilled < 2 + extendedBytes + maskBytes) continue;

      const payloadLength =
        shortLength === 126
          ? header.readUInt16BE(2)
          : shortLength === 127
            ? Number(header.readBigUInt64BE(2))
            : shortLength;
      const opcode = header.readUInt8(0) & 0x0f;
      headerFilled = 0;
      // Opcodes 0x0–0x7 are data frames (continuation, text, binary); control frames are ws's business.
      if (opcode < 0x08 && payloadLength > maxFramePayloadBytes) {
        tripped = true;
        onOversize({ opcode, payloadLength });
        return;
      }
      payloadRemaining = payloadLength;
    }
  };
}
