// Runs a wasm32-wasip1 program under Node.js's WASI (V8, the engine Envoy embeds), passing
// the arguments and the EDGEIDP_* environment variables through. Cargo uses it as the runner
// for wasm32-wasip1 (see .cargo/config.toml), so that, for example,
//   cargo test --target wasm32-wasip1 --lib rsa_fast
// runs the fast RSA signer's tests on its SIMD code path.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [program, ...args] = process.argv.slice(2);
if (!program) {
  console.error('usage: node wasi-run.mjs PROGRAM.wasm [ARGUMENTS...]');
  process.exit(2);
}
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('EDGEIDP_')));
const wasi = new WASI({ version: 'preview1', args: [program, ...args], env, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(program));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
