/** Public (plaintext) tensors: operands every party knows, mixed freely with secret tensors. */
import { invalidArgument } from '../errors.js';
import { broadcastIndex, checkShape, sameShape, sizeOf, type Shape } from './shape.js';

export class PublicTensor {
  readonly data: Float64Array;
  readonly shape: readonly number[];

  constructor(data: ArrayLike<number>, shape?: Shape) {
    const sh = shape ?? [data.length];
    checkShape(sh);
    if (sizeOf(sh) !== data.length)
      throw invalidArgument(
        `public tensor has ${data.length} values, shape [${sh.join(', ')}] wants ${sizeOf(sh)}`,
      );
    this.data = data instanceof Float64Array ? data : Float64Array.from(data);
    this.shape = sh.slice();
  }

  static scalar(v: number): PublicTensor {
    return new PublicTensor(Float64Array.of(v), []);
  }

  get size(): number {
    return this.data.length;
  }

  /** Values repeated to `shape` by NumPy broadcasting (a copy unless the shape already matches). */
  broadcastTo(shape: Shape): PublicTensor {
    if (sameShape(this.shape, shape)) return this;
    const idx = broadcastIndex(this.shape, shape);
    const out = new Float64Array(idx.length);
    for (let i = 0; i < idx.length; i++) out[i] = this.data[idx[i]!]!;
    return new PublicTensor(out, shape);
  }

  /** True when every value is an integer of magnitude < 2^31 (secret × public is then exact). */
  isSmallInteger(): boolean {
    for (let i = 0; i < this.data.length; i++) {
      const v = this.data[i]!;
      if (!Number.isInteger(v) || Math.abs(v) >= 2 ** 31) return false;
    }
    return true;
  }
}
