/** Every event Switchboard publishes carries this source; rules match on it. */
export const EVENT_SOURCE = 'switchboard.messaging';
