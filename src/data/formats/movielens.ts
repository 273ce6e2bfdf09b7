// The MovieLens layouts (GroupLens): 100K u.data, 1M/10M ratings.dat, latest/20M/25M/32M
// ratings.csv, hetrec2011-movielens-2k. Each is a preset of the delimited reader.
import { isNum } from './time.js';
import { preset, readDelimited, type DelimitedSpec } from './delimited.js';
import { sameHeader, splitSimple, type FormatFamily } from './family.js';

/** MovieLens 100K `u.data`: tab-separated `user item rating timestamp`, no header. */
export interface MovieLens100kFormat { kind: 'movielens-100k' }
/** MovieLens 1M/10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header. */
export interface MovieLensDatFormat { kind: 'movielens-dat' }
/** MovieLens latest/20M/25M/32M `ratings.csv`: header `userId,movieId,rating,timestamp`. */
export interface MovieLensCsvFormat { kind: 'movielens-csv' }
/** hetrec2011-movielens-2k `user_ratedmovies-timestamps.dat`: tab-separated, header `userID movieID rating timestamp`, ms. */
export interface MovieLensHetrecFormat { kind: 'movielens-hetrec' }

type MovieLensFormat = MovieLens100kFormat | MovieLensDatFormat | MovieLensCsvFormat | MovieLensHetrecFormat;

const ROLES = ['user', 'item', 'rating', 'time'] as const;
const SPECS: Record<MovieLensFormat['kind'], () => DelimitedSpec> = {
  'movielens-100k': () => preset('\t', 'none', ['user id', 'item id', 'rating', 'timestamp'], [...ROLES], 's'),
  'movielens-dat': () => preset('::', 'none', ['UserID', 'MovieID', 'Rating', 'Timestamp'], [...ROLES], 's'),
  'movielens-csv': () => preset(',', 'required', ['userId', 'movieId', 'rating', 'timestamp'], [...ROLES], 's', true),
  'movielens-hetrec': () => preset('\t', 'required', ['userID', 'movieID', 'rating', 'timestamp'], [...ROLES], 'ms'),
};

const DAT = 'MovieLens 1M/10M ratings.dat (UserID::MovieID::Rating::Timestamp)';
const CSV = 'MovieLens ratings.csv (userId,movieId,rating,timestamp)';
const HETREC = 'hetrec2011-movielens-2k user_ratedmovies-timestamps.dat (tab-separated, header, ms)';
const U_DATA = 'MovieLens 100K u.data (tab-separated user item rating timestamp, no header)';

export const movielens: FormatFamily<MovieLensFormat> = {
  kinds: ['movielens-100k', 'movielens-dat', 'movielens-csv', 'movielens-hetrec'],
  names: [
    { name: 'movielens-100k', aliases: ['ml-100k'], reads: U_DATA, format: { kind: 'movielens-100k' } },
    { name: 'movielens-1m', aliases: ['ml-1m', 'movielens-dat'], reads: 'MovieLens 1M ratings.dat (UserID::MovieID::Rating::Timestamp)', format: { kind: 'movielens-dat' } },
    { name: 'movielens-10m', aliases: ['ml-10m'], reads: 'MovieLens 10M ratings.dat (UserID::MovieID::Rating::Timestamp)', format: { kind: 'movielens-dat' } },
    {
      name: 'movielens-latest', aliases: ['movielens-latest-small', 'ml-latest', 'ml-latest-small', 'movielens-csv'],
      reads: 'MovieLens latest / latest-small ratings.csv (userId,movieId,rating,timestamp)', format: { kind: 'movielens-csv' },
    },
    { name: 'movielens-20m', aliases: ['ml-20m'], reads: 'MovieLens 20M ratings.csv', format: { kind: 'movielens-csv' } },
    { name: 'movielens-25m', aliases: ['ml-25m'], reads: 'MovieLens 25M ratings.csv', format: { kind: 'movielens-csv' } },
    { name: 'movielens-32m', aliases: ['ml-32m'], reads: 'MovieLens 32M ratings.csv', format: { kind: 'movielens-csv' } },
    { name: 'movielens-2k', aliases: ['ml-2k', 'hetrec', 'movielens-hetrec'], reads: HETREC, format: { kind: 'movielens-hetrec' } },
  ],
  describe: (f) => ({ 'movielens-100k': U_DATA, 'movielens-dat': DAT, 'movielens-csv': CSV, 'movielens-hetrec': HETREC })[f.kind],

  compile(format) {
    const spec = SPECS[format.kind]();
    return (path, options) => readDelimited(path, spec, options);
  },

  /**
   * u.data by its names (u.data, u1.base, ua.test, ...) and four tab-separated fields; ratings.dat by
   * four numbers joined by '::'; ratings.csv by its header with ',' and second times; hetrec by that
   * header with tabs and millisecond times (or its file name).
   */
  detect({ base, lines }) {
    const first = lines[0];
    if (first.split('\t').length === 4 && /^u[a-z0-9]*\.(data|base|test)$/.test(base)) return { kind: 'movielens-100k' };
    const colons = first.split('::');
    if (colons.length === 4 && colons.every(isNum)) return { kind: 'movielens-dat' };
    for (const delimiter of [',', '\t']) {
      if (!sameHeader(splitSimple(first, delimiter), ['userId', 'movieId', 'rating', 'timestamp'])) continue;
      const t = lines[1] !== undefined ? splitSimple(lines[1], delimiter)[3] : undefined;
      const ms = t !== undefined && isNum(t) && Number(t) >= 1e11;
      if (delimiter === ',' && !ms) return { kind: 'movielens-csv' };
      if (delimiter === '\t' && (ms || base.includes('ratedmovies'))) return { kind: 'movielens-hetrec' };
    }
    return null;
  },
};
