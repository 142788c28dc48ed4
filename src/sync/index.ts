/**
 * Volume sync (in progress, see the README): the rsync algorithm. The receiver describes its copy
 * of a file by block signatures; the sender answers with copy-block and literal instructions; the
 * receiver rebuilds the file from them, checking each one.
 */
export { blockSizeFor, signatureOf, type Signature } from './signature';
export { deltaOf, MAX_LITERAL_BYTES, type DeltaOp } from './delta';
export { applyDelta, type PatchBasis } from './patch';
