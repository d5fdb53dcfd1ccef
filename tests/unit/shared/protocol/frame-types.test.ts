import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type ClientFrame,
  markReadSchema,
  type ResumeFrame,
  resumeSchema,
  type SendDirectMessageFrame,
  type SendRoomMessageFrame,
  sendRoomMessageSchema,
} from '#protocol/client-frames';
import {
  type AckFrame,
  type DirectMessage,
  type ServerFrame,
  type StatusFrame,
  statusFrameSchema,
} from '#protocol/server-frames';

// The types are checked by `tsc --noEmit` (tests are in tsconfig's include): each `@ts-expect-error`
// fails the typecheck if the line below it ever compiles, i.e. if a wrong frame became acceptable.
// The runtime assertions show the schemas the types come from refuse the same frames.

describe('client frame types', () => {
  it('accept the frames the clients send', () => {
    const room: ClientFrame = { action: 'sendMessage', room: 'general', message: 'hi', messageId: 'm1' };
    const direct: ClientFrame = { action: 'sendMessage', recipientId: 'bob', content: 'hi', messageId: 'm2' };
    const resume: ClientFrame = { action: 'resume', room: 'general', cursor: '2026-01-01T00:00:00.000Z#m1' };
    const read: ClientFrame = { action: 'markRead', conversationId: 'c1', upToMessageId: 'm2' };
    expect(sendRoomMessageSchema.safeParse(room).success).toBe(true);
    expect(resumeSchema.safeParse(resume).success).toBe(true);
    expect(markReadSchema.safeParse(read).success).toBe(true);
    expectTypeOf(direct).toExtend<ClientFrame>();
  });

  it('refuse a wrong frame', () => {
    // @ts-expect-error a room message needs its room
    const noRoom: SendRoomMessageFrame = { action: 'sendMessage', message: 'hi' };
    // @ts-expect-error no such action
    const unknownAction: ClientFrame = { action: 'shout', room: 'general' };
    // @ts-expect-error a direct message's text is `content`, not `message`
    const wrongField: SendDirectMessageFrame = { action: 'sendMessage', recipientId: 'bob', message: 'hi' };
    // @ts-expect-error limit is a number
    const stringLimit: ResumeFrame = { action: 'resume', room: 'general', lastTimestamp: 'x', limit: '10' };
    expect(sendRoomMessageSchema.safeParse(noRoom).success).toBe(false);
    expect(resumeSchema.safeParse(stringLimit).success).toBe(false);
    expect(unknownAction).toBeDefined();
    expect(wrongField).toBeDefined();
  });
});

describe('server frame types', () => {
  it('narrow on type', () => {
    const frame = { type: 'ack', messageId: 'm1', timestamp: 't' } as ServerFrame;
    if (frame.type === 'ack') expectTypeOf(frame).toEqualTypeOf<AckFrame>();
    if (frame.type === 'status') expectTypeOf(frame.data.status).toEqualTypeOf<'sent' | 'delivered' | 'read'>();
    expectTypeOf<DirectMessage['status']>().toEqualTypeOf<StatusFrame['data']['status']>();
  });

  it('refuse a wrong frame', () => {
    // @ts-expect-error 'seen' is no delivery status
    const seen: StatusFrame = { type: 'status', data: { messageId: 'm1', conversationId: 'c1', status: 'seen' } };
    // @ts-expect-error no server frame has type 'typing'
    const typing: ServerFrame = { type: 'typing', room: 'general' };
    // @ts-expect-error an ack names its message
    const anonymousAck: AckFrame = { type: 'ack', timestamp: 't' };
    expect(statusFrameSchema.safeParse(seen).success).toBe(false);
    expect(typing).toBeDefined();
    expect(anonymousAck).toBeDefined();
  });
});
