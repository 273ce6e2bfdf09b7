// The 30Music listening sessions: a session column, so sequences can be sessions (--by-session).
import { preset, readDelimited } from './delimited.js';
import { sameHeader, type FormatFamily } from './family.js';
import { isNum } from './time.js';

/** The 30Music session export: tab-separated `UserId SessionId ItemId Time ArtistId` (header optional), seconds. */
export interface ThirtyMusicFormat { kind: '30music' }

const HEADER = ['UserId', 'SessionId', 'ItemId', 'Time', 'ArtistId'];
const READS = '30Music session export (tab-separated UserId SessionId ItemId Time ArtistId)';

export const thirtyMusic: FormatFamily<ThirtyMusicFormat> = {
  kinds: ['30music'],
  names: [{ name: '30music', reads: READS, format: { kind: '30music' } }],
  describe: () => READS,

  compile() {
    const spec = preset('\t', 'optional', HEADER, ['user', 'session', 'item', 'time', null], 's');
    return (path, options) => readDelimited(path, spec, options);
  },

  /** Its header, or five tab-separated numbers in a file whose name says 30music. */
  detect({ base, lines }) {
    const tabs = lines[0].split('\t');
    if (tabs.length === 5 && tabs.every(isNum) && base.includes('30music')) return { kind: '30music' };
    return sameHeader(tabs, HEADER) ? { kind: '30music' } : null;
  },
};
