// tile_cache.test.ts — conv tiles chosen by timing, kept on disk per adapter (src/node/tile_cache.ts): a round trip,
// other adapters' entries kept and not loaded, unknown tiles skipped, a corrupt file reported (not thrown) and
// replaced by the next save.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convTuning, disableConvTuning, enableConvTuning } from '../src/kernels/conv2d.js';
import { loadTileCache, saveTileCache } from '../src/node/tile_cache.js';
import { gpuBackend } from './harness.js';

test('tile cache: saved tiles come back for this adapter only; unknown tiles and corrupt files are skipped', async () => {
  const g = await gpuBackend();
  const dir = mkdtempSync(join(tmpdir(), 'tiles-'));
  const path = join(dir, 'sub', 'conv-tiles.json');
  try {
    assert.equal(loadTileCache(g.gpu, path), { loaded: 0 }, 'no file yet: nothing, and no complaint');
    const tu = enableConvTuning(g.gpu);
    tu.tiles.set('forward:problem-a', [32, 64, 8]);
    tu.tiles.set('gradWeight:problem-b', [64, 64]);
    saveTileCache(g.gpu, path);
    // another adapter's entries, and a tile this version does not have, written beside ours
    const f = JSON.parse(readFileSync(path, 'utf8'));
    const [mine] = Object.keys(f.adapters);
    f.adapters[mine]['forward:problem-c'] = '96×96/8';
    f.adapters['Some Other GPU, hardware adapter; workgroup storage 49152, invocations 1024'] = {
      'forward:problem-a': '128×128/8',
    };
    writeFileSync(path, JSON.stringify(f));
    disableConvTuning(g.gpu);
    assert.equal(loadTileCache(g.gpu, path), { loaded: 2 });
    assert.equal(convTuning(g.gpu)!.tiles.get('forward:problem-a'), [32, 64, 8]);
    assert.equal(convTuning(g.gpu)!.tiles.get('gradWeight:problem-b'), [64, 64]);
    assert.is(convTuning(g.gpu)!.tiles.size, 2);
    // a save merges: the other adapter's entry stays
    convTuning(g.gpu)!.tiles.set('gradInput:problem-d', [128, 32]);
    saveTileCache(g.gpu, path);
    const again = JSON.parse(readFileSync(path, 'utf8'));
    assert.is(Object.keys(again.adapters).length, 2);
    assert.is(again.adapters[mine]['gradInput:problem-d'], '128×32');
    // corrupt: reported, not thrown; the next save replaces it
    disableConvTuning(g.gpu);
    writeFileSync(path, '{"version": 2, "adapters": ');
    const bad = loadTileCache(g.gpu, path);
    assert.is(bad.loaded, 0);
    assert.match(bad.problem!, /conv tile cache .*conv-tiles\.json unusable .*timing afresh/);
    convTuning(g.gpu)!.tiles.set('forward:problem-a', [64, 64, 8]);
    saveTileCache(g.gpu, path);
    disableConvTuning(g.gpu);
    assert.equal(loadTileCache(g.gpu, path), { loaded: 1 });
    // a version-1 file (timed on quantised timestamps, cold): not loaded, said why, replaced at the next save
    disableConvTuning(g.gpu);
    const v1 = JSON.parse(readFileSync(path, 'utf8'));
    v1.version = 1;
    writeFileSync(path, JSON.stringify(v1));
    const old = loadTileCache(g.gpu, path);
    assert.is(old.loaded, 0);
    assert.match(
      old.problem!,
      /unusable \(timed by an older tuner, on quantised timestamps and a cold GPU\); timing afresh/,
    );
    convTuning(g.gpu)!.tiles.set('forward:problem-a', [64, 64]);
    saveTileCache(g.gpu, path);
    assert.is(JSON.parse(readFileSync(path, 'utf8')).version, 2);
    disableConvTuning(g.gpu);
    assert.equal(loadTileCache(g.gpu, path), { loaded: 1 });
  } finally {
    disableConvTuning(g.gpu);
    rmSync(dir, { recursive: true });
  }
});

test.run();
