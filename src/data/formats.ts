// Log formats: what a user passes to readLog (plain, JSON-serialisable objects, so that a cache
// manifest can record them). Each family of formats is one module under formats/ (its format
// objects, their reader and its detection rule); formats/registry.ts lists them. This file is their
// public face: the union of all format objects and the registry's lookups.

export type { ColumnMapping, ColumnRef, DelimitedFormat } from './formats/delimited.js';
export type { ArrowFormat, ParquetFormat } from './formats/columnar.js';
export { sniffColumnar } from './formats/columnar.js';
export type { JsonLinesFormat } from './formats/jsonl.js';
export type { MovieLens100kFormat, MovieLensCsvFormat, MovieLensDatFormat, MovieLensHetrecFormat } from './formats/movielens.js';
export type { PairsFormat } from './formats/pairs.js';
export type { RecBoleFormat } from './formats/recbole.js';
export type { RetailRocketFormat } from './formats/retailrocket.js';
export type { ThirtyMusicFormat } from './formats/thirty-music.js';
export type { UserPerLineFormat } from './formats/user-per-line.js';
export type { TimeFormat, TimeUnit } from './formats/time.js';
export { parseIsoSeconds } from './formats/time.js';
export { DEFAULT_EVENT_WEIGHTS } from './formats/retailrocket.js';
export { FORMAT_NAMES, compileFormat, describeFormat, formatByName, knownFormatsHelp, type LogFormat } from './formats/registry.js';
