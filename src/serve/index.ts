// The serving layer's public surface.
export { topK, type TopK } from './top-k.js';
export {
  Recommender, UnknownItemsError,
  type RecommenderOptions, type RecommendRequest, type RecommendResponse, type Recommendation, type ModelInfo,
  type UnknownItemPolicy, type LastPositionScorer,
} from './recommender.js';
export { fastScorer } from './fast-score.js';
export { receptiveField } from './receptive-field.js';
export { StreamPlan, StreamSession, StreamUnsupportedError } from './stream.js';
export { SessionStore, type SessionResult } from './sessions.js';
