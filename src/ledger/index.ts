/**
 * `sharehold/ledger`: the audit ledger (RFC 9162 Merkle log, signed checkpoints, witnesses, storage,
 * receipts) and the immutable artifact store.
 */
export { HASH_SIZE, hashLeaf, hashChildren, emptyRoot } from './hasher.js';
export { MerkleTree } from './tree.js';
export {
  verifyInclusion,
  verifyConsistency,
  rootFromInclusionProof,
  rootFromConsistencyProof,
} from './proofs.js';
