// cli/main.ts — the command line: `node dist/cli.js <command> [flags]` (npm run train / eval / sample call it).
// Errors are one line on stderr with advice; exit 2 for usage errors, 1 for runtime errors; --verbose adds stacks.
import { nodeGpu, releaseNodeGpu } from '../node/gpu.js';
import { describeGpu, NoAdapterError } from '../kernels/device.js';

class UsageError extends Error {}

const HELP = `usage: node dist/cli.js <command> [flags]

commands:
  info            print the WebGPU adapter the engine would use
  train           train a model (cgan by default; arrives with the GAN issue)
  help            this text

flags:
  --adapter NAME  insist on an adapter whose description contains NAME (or env WEBGPU_ADAPTER)
  --verbose       print stack traces on errors`;

function parse(argv: string[]): { cmd: string; flags: Map<string, string | true>; rest: string[] } {
  const flags = new Map<string, string | true>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      if (!k) throw new UsageError(`malformed flag '${a}'`);
      if (v !== undefined) flags.set(k, v);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--') && k !== 'verbose' && k !== 'help') flags.set(k, argv[++i]);
      else flags.set(k, true);
    } else rest.push(a);
  }
  return { cmd: rest.shift() ?? 'help', flags, rest };
}

async function main(argv: string[]): Promise<number> {
  const { cmd, flags } = parse(argv);
  if (flags.has('help') || cmd === 'help') {
    console.log(HELP);
    return 0;
  }
  const known = new Set(['adapter', 'verbose']);
  for (const k of flags.keys()) if (!known.has(k)) throw new UsageError(`unknown flag --${k} (see --help)`);
  const adapter = typeof flags.get('adapter') === 'string' ? (flags.get('adapter') as string) : undefined;
  switch (cmd) {
    case 'info': {
      const gpu = await nodeGpu({ adapter });
      console.log(describeGpu(gpu));
      const l = gpu.limits;
      console.log(`features: ${[...gpu.features].join(', ') || 'none'}; maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, workgroup storage ${l.maxComputeWorkgroupStorageSize} B`);
      releaseNodeGpu(gpu);
      return 0;
    }
    case 'train': {
      const gpu = await nodeGpu({ adapter });
      console.log(`device: ${describeGpu(gpu)}`);
      releaseNodeGpu(gpu);
      console.log('Model training is not built yet: the engine foundation (tensors, autograd, kernels) is in place;');
      console.log('`npm run train` will train the conditional GAN on Fashion-MNIST once the GAN issue lands (see README).');
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${cmd}' (see --help)`);
  }
}

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = e as Error;
    if (e instanceof UsageError) console.error(`error: ${err.message}`);
    else if (e instanceof NoAdapterError) console.error(`error: ${err.message}`);
    else console.error(`error: ${err?.message ?? String(e)}`);
    if (verbose && err?.stack) console.error(err.stack);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
