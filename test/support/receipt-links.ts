/**
 * What a verification report shows for a receipt whose every offline link holds, in report order
 * (the anchor links follow): the expectation several tests share, written once.
 */
export const OFFLINE_LINKS_OK = [
  ['format', 'ok'],
  ['content', 'ok'],
  ['leaf', 'ok'],
  ['inclusion', 'ok'],
  ['checkpoint', 'ok'],
  ['signature', 'ok'],
] as const;
