/**
 * The rules for paths inside an app's volume, as members send them: relative, no '.' or '..'
 * segment, and links that stay inside. Volume sync (src/sync) checks everything a peer names
 * with them.
 */
export { checkEntryPath, linkStaysInside } from './paths';
