// app/serve.ts — the playground's web server (`npm run playground`): Node's own http server on localhost,
// serving the static site in dist/web/ (built by `node scripts/build.mjs --web`) and the chosen GAN checkpoint as
// /checkpoint.safetensors (slimmed on the fly: the optimizer moments stay on disk; 204 when there is none), any
// further GAN files (the shipped ones) as /models/NAME with the list of both as /models.json, which the page offers
// to switch between, and for the Train view the Fashion-MNIST files as data/NAME (gzipped or not, as found: the page
// decompresses) with their list in data/index.json. WebGPU needs a secure context, which http://localhost and
// http://127.0.0.1 are.
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import { slimGanCheckpoint } from '../gan/load.js';
import { FILES, findDataDir } from '../node/fashion_mnist.js';

export interface PlaygroundOptions {
  /** the static site (dist/web) */
  root: string;
  /** a GAN checkpoint file to serve as /checkpoint.safetensors (else dist/web's own, if build:web put one there) */
  checkpoint?: string;
  /** more GAN files the page may switch to (e.g. the shipped models/cgan.safetensors), served as /models/NAME */
  models?: string[];
  host?: string;
  /** 0: any free port */
  port?: number;
  /** the directory whose Fashion-MNIST files the page trains on (default: where `npm run train` finds them);
   *  null: serve none */
  dataDir?: string | null;
}

export interface Playground {
  url: string;
  server: Server;
  /** what /checkpoint.safetensors serves, or null */
  checkpoint: string | null;
  /** where data/ comes from, or null */
  dataDir: string | null;
  /** what /models.json lists: a name and the URL path of each GAN file the page can load */
  models: ServedModel[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.safetensors': 'application/octet-stream',
  '.png': 'image/png',
};

export class PlaygroundError extends Error {}

export interface ServedModel {
  /** the file it came from */
  name: string;
  /** its path on the server, relative to the site (checkpoint.safetensors, models/cgan.safetensors) */
  url: string;
}

/**
 * The newest GAN checkpoint under `runsDir` (runs/NAME/checkpoint.safetensors whose metadata names a cgan or
 * acgan), or null. CNN runs are skipped.
 */
export function newestGanRun(runsDir: string): string | null {
  if (!existsSync(runsDir)) return null;
  const found: { path: string; t: number }[] = [];
  for (const d of readdirSync(runsDir)) {
    const p = join(runsDir, d, 'checkpoint.safetensors');
    if (existsSync(p)) found.push({ path: p, t: statSync(p).mtimeMs });
  }
  found.sort((a, b) => b.t - a.t);
  for (const f of found) {
    try {
      slimGanCheckpoint(new Uint8Array(readFileSync(f.path)), f.path);
      return f.path;
    } catch {
      // not a GAN checkpoint (a CNN run) or damaged: try the next
    }
  }
  return null;
}

export async function startPlayground(opts: PlaygroundOptions): Promise<Playground> {
  const root = resolve(opts.root);
  if (!existsSync(join(root, 'index.html')) || !existsSync(join(root, 'playground.js')))
    throw new PlaygroundError(
      `${opts.root} holds no built playground (index.html, playground.js): run \`node scripts/build.mjs --web\` (npm run build:web)`,
    );
  let ckptBytes: Uint8Array | null = null;
  let ckptName: string | null = null;
  if (opts.checkpoint) {
    if (!existsSync(opts.checkpoint))
      throw new PlaygroundError(`${opts.checkpoint}: no such file (give a GAN run's checkpoint.safetensors)`);
    ckptBytes = slimGanCheckpoint(new Uint8Array(readFileSync(opts.checkpoint)), opts.checkpoint);
    ckptName = opts.checkpoint;
  } else if (existsSync(join(root, 'checkpoint.safetensors'))) ckptName = join(opts.root, 'checkpoint.safetensors');
  const dataDir = opts.dataDir === undefined ? findDataDir() : opts.dataDir;
  /** data/NAME: the official file names only, from dataDir */
  const dataFiles = new Set(Object.values(FILES).flatMap((f) => [`/data/${f.name}`, `/data/${f.name}.gz`]));
  const models: ServedModel[] = ckptName ? [{ name: ckptName, url: 'checkpoint.safetensors' }] : [];
  const extra = new Map<string, Uint8Array>();
  for (const f of opts.models ?? []) {
    if (!existsSync(f)) throw new PlaygroundError(`${f}: no such file (a GAN checkpoint to serve)`);
    const url = `models/${basename(f)}`;
    if (extra.has(`/${url}`)) throw new PlaygroundError(`${f}: another file named ${basename(f)} is served already`);
    extra.set(`/${url}`, slimGanCheckpoint(new Uint8Array(readFileSync(f)), f));
    models.push({ name: f, url });
  }

  const server = createServer((req, res) => {
    const send = (code: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'GET only');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'bad path');
    }
    if (path === '/') path = '/index.html';
    if (path === '/checkpoint.safetensors' && ckptBytes) return send(200, ckptBytes, TYPES['.safetensors']);
    // none to serve: 204, which the page reads as "no model yet" (a 404 would be a console error in the browser)
    if (path === '/checkpoint.safetensors' && !existsSync(join(root, 'checkpoint.safetensors'))) return send(204, '');
    if (extra.has(path)) return send(200, extra.get(path)!, TYPES['.safetensors']);
    if (path === '/models.json' && (opts.models?.length || ckptBytes))
      return send(200, JSON.stringify(models), TYPES['.json']);
    // the data files this server has, so that the page asks only for those
    if (path === '/data/index.json')
      return send(
        200,
        JSON.stringify({
          files: dataDir
            ? [...dataFiles].map((f) => f.slice('/data/'.length)).filter((f) => existsSync(join(dataDir, f)))
            : [],
        }),
        TYPES['.json'],
      );
    if (dataDir && dataFiles.has(path)) {
      const f = join(dataDir, path.slice('/data/'.length));
      if (existsSync(f)) return send(200, readFileSync(f), 'application/octet-stream');
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root + sep)) return send(403, 'outside the site');
    if (!existsSync(file) || !statSync(file).isFile()) return send(404, `${path}: not found`);
    send(200, readFileSync(file), TYPES[extname(file)] ?? 'application/octet-stream');
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, bad) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      bad(
        e.code === 'EADDRINUSE'
          ? new PlaygroundError(`port ${opts.port} on ${host} is in use: pick another with --port N (0: any free port)`)
          : e,
      ),
    );
    server.listen(opts.port ?? 8080, host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    server,
    checkpoint: ckptName,
    dataDir: dataDir ?? null,
    models,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}
