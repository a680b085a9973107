export { connectNats, natsOptionsFrom, natsServers, type Nats, type NatsOptions } from "./connection.js";
export { checkReplicas, clusterView, countJetStreamServers, jetStreamUnavailable, NatsSetupError, type ClusterView } from "./cluster.js";
export { STAGES, streamNames, TYPE_HEADER, type StageName, type StreamNames, type TokenEventName } from "./names.js";
export { consumerConfigs, deleteStreams, ensureStreams, streamConfigs, type ReplicaChange, type StreamOptions } from "./streams.js";
export { publishMessage, decodeMessage } from "./codec.js";
export {
  createAckedPublisher,
  JetStreamPublishError,
  PublishTimeoutError,
  type AckedPublisher,
  type AckedPublishOptions,
} from "./acked-publisher.js";
export { handOnNotification } from "./review-notifications.js";
