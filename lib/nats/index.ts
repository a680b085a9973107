export { connectNats, type Nats, type NatsOptions } from "./connection.js";
export { STAGES, streamNames, TYPE_HEADER, type StageName, type StreamNames, type TokenEventName } from "./names.js";
export { consumerConfigs, deleteStreams, ensureStreams, streamConfigs, type StreamOptions } from "./streams.js";
export { publishMessage, decodeMessage } from "./codec.js";
