// Compiles the AssemblyScript hot kernels (assembly/kernels.ts) to dist/wasm/kernels.wasm with the
// locally installed compiler (devDependency `assemblyscript`), offline. Run by `npm run build:wasm`.
// The TS side (src/math/kernels.ts) loads the result synchronously and falls back to TypeScript
// kernels when the file is missing; a compile error here still fails the build (exit code 1).
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'assembly', 'kernels.ts');
const outFile = join(root, 'dist', 'wasm', 'kernels.wasm');

const args = [
  relative(root, entry),
  '--outFile',
  relative(root, outFile),
  '--runtime',
  'stub',
  '--enable',
  'simd',
  '-O3',
  '--noAssert',
  '--use',
  'abort=', // no imports: the module is instantiated with an empty import object
];
if (process.argv.includes('--text'))
  args.push('--textFile', relative(root, outFile.replace(/\.wasm$/, '.wat')));

mkdirSync(dirname(outFile), { recursive: true });
const prevCwd = process.cwd();
process.chdir(root);
let asc;
try {
  asc = (await import('assemblyscript/asc')).default;
} catch (e) {
  console.error(`build-wasm: cannot load the AssemblyScript compiler (${e.message}); run npm ci`);
  process.exit(1);
}
const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
process.chdir(prevCwd);
if (error) {
  console.error(`build-wasm: asc failed: ${error.message}`);
  process.exit(1);
}
console.log(`build-wasm: wrote ${relative(root, outFile)} (${statSync(outFile).size} bytes)`);

// assembly/field.ts → dist/wasm/field.wasm: F_p (p = 2^127 − 1) kernels for Shamir sharing
// (src/math/field.ts), with the same flags.
const fieldOut = join(root, 'dist', 'wasm', 'field.wasm');
const fieldArgs = [join('assembly', 'field.ts'), '--outFile', relative(root, fieldOut), ...args.slice(3, 11)];
if (process.argv.includes('--text'))
  fieldArgs.push('--textFile', relative(root, fieldOut.replace(/\.wasm$/, '.wat')));
process.chdir(root);
const built = await asc.main(fieldArgs, { stdout: process.stdout, stderr: process.stderr });
process.chdir(prevCwd);
if (built.error) {
  console.error(`build-wasm: asc failed on field.ts: ${built.error.message}`);
  process.exit(1);
}
console.log(`build-wasm: wrote ${relative(root, fieldOut)} (${statSync(fieldOut).size} bytes)`);
