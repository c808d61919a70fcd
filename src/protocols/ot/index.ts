/**
 * Oblivious transfer: [CO15] base OT on ristretto255 and [IKNP03] extension (correlated OT with a
 * global Δ, random OT, chosen-message OT, correlated OT over Z_2^64 for [Gil99] triples).
 * Semi-honest. See docs/gc.md.
 */
export {
  baseOtReceive,
  baseOtSend,
  co15Receive,
  co15SenderKeys,
  co15SenderStart,
  CO15_KEY_BYTES,
  type Co15Sender,
} from './co15.js';
export { CotReceiver, CotSender, KAPPA, packBits, unpackBits } from './iknp.js';
export { transpose128, transpose32 } from './transpose.js';
