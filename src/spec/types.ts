/**
 * The validated job spec (docs/jobspec.md). Paths are resolved to absolute paths, relative to the
 * spec file's folder. Everything here is public: the spec is what every party agrees to run.
 */
export type Task = 'train' | 'infer' | 'distill';
export type SchemeName = 'rep3' | 'rep4' | 'shamir' | 'additive';
export type Optimizer = 'sgd' | 'momentum' | 'adam';
export type Loss = 'bce' | 'mse' | 'cross-entropy';
export type Activation = 'relu' | 'sigmoid' | 'tanh' | 'none';
/**
 * Positive-class weight of a data owner's rows for bce: 'balanced' = negatives/positives of that
 * owner's own rows (computed by the owner), or a declared number. Secret-shared with the rows.
 */
export type ClassWeight = 'balanced' | number;

export interface Member {
  readonly name: string;
  /** Party index = position in `members`. */
  readonly index: number;
}

export interface Scheme {
  readonly name: SchemeName;
  /** Number of compute parties (rep3: 3, rep4: 4, shamir/additive: as given). */
  readonly parties: number;
  /** Shamir threshold (t < parties/2). */
  readonly threshold?: number;
  /** Additive preprocessing: a trusted dealer (an extra helper process) or OT between the parties. */
  readonly prep?: 'dealer' | 'ot';
  /** Additive comparisons: secret sharing or garbled circuits (2 parties). */
  readonly compare?: 'ss' | 'gc';
}

export interface DatasetRef {
  readonly member: string;
  readonly party: number;
  readonly file: string;
  /** Column names, or a count (names then come from the file header). */
  readonly columns: readonly string[] | number;
  readonly integerColumns: readonly string[];
  /** Training entries only: this owner's positive-class weight (overrides `training.classWeight`). */
  readonly classWeight?: ClassWeight;
}

export interface DataSpec {
  readonly partition: 'horizontal' | 'vertical';
  readonly label: string;
  readonly train: readonly DatasetRef[];
  readonly test: readonly DatasetRef[];
  /** Secret-shared validation set, evaluated after every epoch (aggregates only); may be empty. */
  readonly validation?: readonly DatasetRef[];
}

export interface Preprocessing {
  /** Secure global standardization of every feature column (src/data/standardize.ts). */
  readonly standardize: boolean;
  /** Public constant divisor applied by every owner (e.g. 16 for digits pixels). */
  readonly divideBy?: number;
}

export type InitSpec =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'seed'; readonly seed: number }
  /** Parameters from a JSON file (e.g. data/reference/*.json), under `key` (torch state_dict names). */
  | { readonly kind: 'file'; readonly file: string; readonly key: string };

export type ModelSpec =
  | { readonly type: 'logreg'; readonly init: InitSpec }
  | {
      readonly type: 'mlp';
      /** Output sizes of the Linear layers (the input size comes from the data). */
      readonly layers: readonly number[];
      readonly activation: Activation;
      /** Applied after the last layer. */
      readonly output: Activation | 'softmax';
      readonly init: InitSpec;
    }
  | { readonly type: 'onnx'; readonly file: string; readonly owner: string };

export interface Training {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly optimizer: Optimizer;
  readonly momentum?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly loss: Loss;
  readonly shuffle: boolean;
  /** Public seed of the per-epoch row order with `shuffle` (default 0), the same at every party. */
  readonly shuffleSeed?: number;
  /** Default positive-class weight of every training owner (bce only); see `DatasetRef.classWeight`. */
  readonly classWeight?: ClassWeight;
  /**
   * K: the per-epoch validation ROC is taken at the logits of k/(K+1), k = 1..K, and 0 (binary
   * tasks; default 63, as the test metrics): one comparison per validation row and threshold.
   */
  readonly validationThresholds?: number;
}

export interface OutputPolicy {
  /** 'shared': the model stays secret-shared; 'reveal': opened to `to` only. */
  readonly model: 'shared' | 'reveal';
  readonly to: readonly string[];
}

export interface InferInput {
  readonly member: string;
  readonly file: string;
}

/** `task: distill` (docs/jobspec.md): which trained model labels which public set. */
export interface DistillSpec {
  /** Id of the finished training job whose final (secret-shared) parameters label the set. */
  readonly fromJob: string;
  /** The public, unlabelled rows: a seeded generator (src/casestudy/public-set.ts). */
  readonly publicSet: { readonly generator: string; readonly seed: number; readonly rows: number };
}

export interface JobSpec {
  readonly version: 1;
  readonly name: string;
  readonly task: Task;
  readonly file: string;
  readonly members: readonly Member[];
  readonly scheme: Scheme;
  readonly fixedPoint: { readonly f: number };
  readonly data?: DataSpec;
  readonly preprocessing: Preprocessing;
  readonly model: ModelSpec;
  readonly training?: Training;
  readonly input?: InferInput;
  readonly output: OutputPolicy;
  /** task distill only; `output` is then { model: 'reveal', to: the label recipients }. */
  readonly distill?: DistillSpec;
}

/** One problem in a spec, with its position. */
export interface SpecIssue {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Dotted path of the offending entry, e.g. `training.lr` or `data.train[1].file`. */
  readonly path: string;
  readonly message: string;
}
