import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { actions } from '#api/websocket/actions';
import * as client from '#protocol/client-frames';
import * as server from '#protocol/server-frames';

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/<!-- (client|server): ([\w.]+) -->\n```json\n([\s\S]+?)\n```/g)].map(
  ([, side, name, json]) => ({
    side: side as 'client' | 'server',
    name: String(name),
    frame: JSON.parse(String(json)) as Record<string, unknown>,
  }),
);

const clientSchemas: Record<string, z.ZodType> = {
  'sendMessage.room': client.sendRoomMessageSchema,
  'sendMessage.direct': client.sendDirectMessageSchema,
  joinRoom: client.roomActionSchema,
  leaveRoom: client.roomActionSchema,
  listRooms: client.listRoomsSchema,
  ping: client.pingSchema,
  resume: client.resumeSchema,
  'resume.next': client.resumeSchema,
  markRead: client.markReadSchema,
  deleteMessage: client.deleteMessageSchema,
  auditTrail: client.auditTrailSchema,
  conversationHistory: client.conversationHistorySchema,
  subscribe: client.topicActionSchema,
  unsubscribe: client.topicActionSchema,
  'markRead.room': client.markRoomReadSchema,
  typing: client.typingSchema,
  'typing.direct': client.typingSchema,
  editMessage: client.editMessageSchema,
  react: client.reactionSchema,
  unreact: client.reactionSchema,
  requestUpload: client.requestUploadSchema,
  getAttachment: client.getAttachmentSchema,
  createRoom: client.createRoomSchema,
  'createRoom.public': client.createRoomSchema,
  inviteMember: client.memberActionSchema,
  kickMember: client.memberActionSchema,
  unbanMember: client.memberActionSchema,
  banMember: client.banMemberSchema,
  setRole: client.setRoleSchema,
  quitRoom: client.roomOwnershipSchema,
  deleteRoom: client.roomOwnershipSchema,
  listMembers: client.listMembersSchema,
};

const serverSchemas: Record<string, z.ZodType> = {
  welcome: server.welcomeFrameSchema,
  'message.room': server.roomMessageFrameSchema,
  'message.direct': server.directMessageFrameSchema,
  ack: server.ackFrameSchema,
  error: server.errorFrameSchema,
  presence: server.presenceFrameSchema,
  status: server.statusFrameSchema,
  deleted: server.deletedFrameSchema,
  audit: server.auditFrameSchema,
  pong: server.pongFrameSchema,
  joined: server.joinedFrameSchema,
  left: server.leftFrameSchema,
  rooms: server.roomsFrameSchema,
  history: server.historyFrameSchema,
  read: server.readFrameSchema,
  METRICS_UPDATE: server.metricsUpdateFrameSchema,
  typing: server.typingFrameSchema,
  'read.room': server.roomReadFrameSchema,
  edited: server.editedFrameSchema,
  reactions: server.reactionsFrameSchema,
  upload: server.uploadFrameSchema,
  attachment: server.attachmentFrameSchema,
  roomCreated: server.roomCreatedFrameSchema,
  roomMember: server.roomMemberFrameSchema,
  roomDeleted: server.roomDeletedFrameSchema,
  members: server.membersFrameSchema,
  removed: server.removedFrameSchema,
  invited: server.invitedFrameSchema,
  'rooms.private': server.roomsFrameSchema,
};

describe('docs/protocol.md', () => {
  it('has examples to check', () => {
    expect(examples.length).toBeGreaterThan(20);
  });

  it.each(examples.filter((e) => e.side === 'client'))(
    'client frame $name is accepted by its schema',
    ({ name, frame }) => {
      const schema = clientSchemas[name];
      expect(schema, `no schema mapped for ${name}`).toBeDefined();
      expect(schema?.safeParse(frame).success).toBe(true);
    },
  );

  it.each(examples.filter((e) => e.side === 'server'))(
    'server frame $name matches its schema exactly',
    ({ name, frame }) => {
      const schema = serverSchemas[name];
      expect(schema, `no schema mapped for ${name}`).toBeDefined();
      // Parsing strips unknown keys, so equality means the doc shows no field the code doesn't send.
      expect(schema?.parse(frame)).toEqual(frame);
    },
  );

  it('documents every action the WebSocket router accepts', () => {
    const documented = new Set(examples.filter((e) => e.side === 'client').map((e) => e.name.split('.')[0]));
    expect([...Object.keys(actions)].filter((action) => !documented.has(action))).toEqual([]);
  });

  it('maps every frame schema the code exports', () => {
    const mapped = new Set(Object.values(serverSchemas));
    const exported = Object.entries(server).filter(([name]) => name.endsWith('FrameSchema'));
    expect(exported.filter(([, schema]) => !mapped.has(schema as z.ZodType)).map(([name]) => name)).toEqual([]);
  });

  it('documents every server frame schema', () => {
    const documented = new Set(examples.filter((e) => e.side === 'server').map((e) => e.name));
    expect(Object.keys(serverSchemas).filter((name) => !documented.has(name))).toEqual([]);
  });
});
