// Frames are moving to their own protocol module; until then the core reaches them through here,
// so no core file has to name their temporary home.
export * from '../../domain/frames.js';
