// The connect URL's part of the protocol. No zod here: the browser bundle imports this value.

/** At most this many rooms can be joined from the connect URL (`?room=a,b`); clients join the rest once open. */
export const MAX_CONNECT_ROOMS = 10;
