/**
 * The Slurm side of `ava-lab submit`, as data: the job array script, the parsers of squeue,
 * sacct and scontrol output (in the formats Slurm 22.05 prints), how a cell's state is read
 * from its status.json and Slurm's word, and the `cluster:` section of the experiment schema.
 * The same code against a real one-node Slurm: test/slurm-real.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arraySpec, clusterCellView, currentJobOf, parseArraySpec, parseSacct, parseScontrol, parseSqueue, sbatchScript, shellQuote, type SlurmTaskState } from '../src/core/cluster/slurm.js';
import { DEFAULT_CLUSTER } from '../src/core/experiment/config.js';
import { loadExperiment } from '../src/core/experiment/load.js';
import type { GridManifest, RunStatusFile } from '../src/core/run/layout.js';

test('array specs compress and expand like Slurm', () => {
  assert.equal(arraySpec([0, 1, 2, 3]), '0-3');
  assert.equal(arraySpec([5, 0, 1, 3, 7, 8]), '0-1,3,5,7-8');
  assert.deepEqual(parseArraySpec('0-3,5'), [0, 1, 2, 3, 5]);
  assert.deepEqual(parseArraySpec('[2-4%2]'), [2, 3, 4]);
  assert.deepEqual(parseArraySpec('1-7:3'), [1, 4, 7]);
});

test('shellQuote leaves plain words and quotes the rest, single quotes included', () => {
  assert.equal(shellQuote('/a/b-c.yaml'), '/a/b-c.yaml');
  assert.equal(shellQuote('w/o rwt'), "'w/o rwt'");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  const echoed = spawnSync('bash', ['-c', `printf %s ${shellQuote("a b'c $HOME")}`], { encoding: 'utf8' }).stdout;
  assert.equal(echoed, "a b'c $HOME");
});

function script(cells = [{ variant: 'w/o rwt', seed: 0 }, { variant: '', seed: 1 }], submit = [0, 1], options = DEFAULT_CLUSTER) {
  return sbatchScript({ experimentName: 'exp', experimentFile: '/x/exp.ava.yaml', gridDir: '/runs/g 1', workdir: '/x', cells, submit, options, command: 'node /ava/cli.cjs', version: '1.0' });
}

test('the job array script: one task per cell, options as #SBATCH lines, setup before ava-lab', () => {
  const s = script([{ variant: 'a', seed: 0 }, { variant: 'b', seed: 0 }, { variant: 'a', seed: 1 }], [0, 2], { ...DEFAULT_CLUSTER, partition: 'gpu', gres: 'gpu:1', time: '2:00:00', account: 'lab', mem: '8G', max_parallel: 2, sbatch: ['--constraint=a100', '#SBATCH --exclusive'], setup: 'module load cuda/12' });
  assert.match(s, /^#!\/bin\/bash\n/);
  for (const line of ['#SBATCH --array=0,2%2', '#SBATCH --partition=gpu', '#SBATCH --gres=gpu:1', '#SBATCH --time=2:00:00', '#SBATCH --account=lab', '#SBATCH --mem=8G', '#SBATCH --constraint=a100', '#SBATCH --exclusive', "#SBATCH --output='/runs/g 1/slurm/%A_%a.log'", '#SBATCH --chdir=/x']) {
    assert.ok(s.split('\n').includes(line), `missing ${line} in\n${s}`);
  }
  assert.ok(s.indexOf('module load cuda/12') < s.indexOf('exec node'), 'setup runs before ava-lab');
  assert.match(s, /exec node \/ava\/cli\.cjs run \/x\/exp\.ava\.yaml --resume '\/runs\/g 1' --only "\$variant" --seed "\$seed" --jobs 1/);
  // No options: no partition line, no throttle.
  const plain = script();
  assert.doesNotMatch(plain, /--partition|--gres|--time|%\d/);
});

test('each array task picks its own cell (bash, with a variant name holding a space and an empty one)', () => {
  const s = script();
  const body = s.replace(/^exec .*$/m, 'printf "%s|%s" "$variant" "$seed"');
  for (const [task, want] of [['0', 'w/o rwt|0'], ['1', '|1']]) {
    const r = spawnSync('bash', ['-c', body], { encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: task, SLURM_ARRAY_JOB_ID: '9' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n').pop(), want);
  }
});

test('squeue -r output: pending reasons and running nodes per task', () => {
  const out = parseSqueue('12_2|PENDING|Resources|\n12_3|PENDING|Priority|\n12_0|RUNNING|None|node7\n13_0|RUNNING|None|n1\n', '12');
  assert.deepEqual([...out.keys()].sort(), [0, 2, 3]);
  assert.deepEqual({ ...out.get(2)! }, { job: '12_2', state: 'PENDING', reason: 'Resources', node: '', exit_code: '', source: 'squeue' });
  assert.equal(out.get(0)!.node, 'node7');
  assert.equal(out.get(0)!.reason, '');
  // A still-collapsed pending array (squeue without -r) expands too.
  assert.deepEqual([...parseSqueue('12_[4-6%2]|PENDING|JobArrayTaskLimit|', '12').keys()], [4, 5, 6]);
});

test('sacct -P output: ended states, CANCELLED by uid, exit codes', () => {
  const text = ['12_0|COMPLETED|None|0:0|node7', '12_1|TIMEOUT|TimeLimit|0:15|node7', '12_2|CANCELLED by 0|None|0:15|node8', '12_3|OUT_OF_MEMORY|OutOfMemory|0:125|node8', '12_[4-5]|PENDING|Priority|0:0|None assigned'].join('\n');
  const out = parseSacct(text, '12');
  assert.equal(out.get(1)!.state, 'TIMEOUT');
  assert.equal(out.get(2)!.state, 'CANCELLED');
  assert.equal(out.get(2)!.reason, 'CANCELLED by 0');
  assert.equal(out.get(3)!.exit_code, '0:125');
  assert.equal(out.get(5)!.state, 'PENDING');
  assert.equal(out.get(5)!.node, '');
});

test('scontrol show job -o output: one line per task, grouped pending tasks', () => {
  const text = [
    'JobId=14 ArrayJobId=12 ArrayTaskId=1 JobName=ava-lab:x UserId=root(0) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) ExitCode=0:15 NodeList=vm',
    'JobId=12 ArrayJobId=12 ArrayTaskId=2-3 JobName=ava-lab:x JobState=PENDING Reason=Resources Dependency=(null) ExitCode=0:0 NodeList=(null)',
    'JobId=20 ArrayJobId=19 ArrayTaskId=0 JobState=RUNNING Reason=None',
  ].join('\n');
  const out = parseScontrol(text, '12');
  assert.deepEqual([...out.keys()].sort(), [1, 2, 3]);
  assert.equal(out.get(1)!.state, 'TIMEOUT');
  assert.equal(out.get(1)!.node, 'vm');
  assert.equal(out.get(3)!.reason, 'Resources');
  assert.equal(out.get(3)!.node, '');
});

const status = (s: RunStatusFile['status'], extra: Partial<RunStatusFile> = {}): RunStatusFile => ({ status: s, pid: 1, host: 'node7', started: '', updated: '', step: 10, total_steps: 100, ...extra });
const task = (state: string, reason = ''): SlurmTaskState => ({ job: '12_0', state, reason, node: 'node7', exit_code: '0:0', source: 'sacct', seen: '' });

test('a cell reads as what its run wrote and what Slurm says', () => {
  assert.equal(clusterCellView(null, null, undefined).state, 'unsubmitted');
  assert.equal(clusterCellView(null, '12_0', undefined).state, 'queued');
  assert.deepEqual(clusterCellView(null, '12_0', task('PENDING', 'Priority')), { state: 'queued', reason: 'Priority', job: '12_0', node: 'node7' });
  assert.equal(clusterCellView(status('running'), '12_0', task('RUNNING')).state, 'running');
  // Finished is finished, whatever Slurm says afterwards.
  assert.equal(clusterCellView(status('finished'), '12_0', task('CANCELLED')).state, 'finished');
  // Killed by Slurm: failed with Slurm's reason, though status.json says running or stopped.
  const timeout = clusterCellView(status('stopped'), '12_0', task('TIMEOUT', 'TimeLimit'));
  assert.equal(timeout.state, 'failed');
  assert.match(timeout.reason, /TIMEOUT \(time limit reached; TimeLimit\)/);
  assert.match(clusterCellView(status('running'), '12_0', task('OUT_OF_MEMORY')).reason, /out of memory/);
  assert.match(clusterCellView(status('running'), '12_0', task('NODE_FAIL')).reason, /node failure/);
  assert.equal(clusterCellView(status('stopped'), '12_0', task('CANCELLED', 'CANCELLED by 0')).state, 'cancelled');
  // The task completed without finishing the run: the run's own error says why.
  const early = clusterCellView(status('failed', { error: 'data: bad line 3' }), '12_0', task('COMPLETED'));
  assert.deepEqual([early.state, early.reason], ['failed', 'data: bad line 3']);
});

test('the current job of a cell is the newest submission that holds it', () => {
  const m = { submissions: [{ job_id: '12', cells: [0, 1, 2], script: '', submitted: '', options: DEFAULT_CLUSTER }, { job_id: '20', cells: [1], script: '', submitted: '', options: DEFAULT_CLUSTER }] };
  assert.equal(currentJobOf(m, 0), '12_0');
  assert.equal(currentJobOf(m, 1), '20_1');
  assert.equal(currentJobOf(m, 3), null);
});

test('the cluster: section is validated like every other key, with its line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-cluster-'));
  const good = join(dir, 'good.ava.yaml');
  writeFileSync(good, 'name: c\ndata: { task: harmless }\ncluster:\n  partition: gpu\n  gres: "gpu:1"\n  sbatch: ["--constraint=a100"]\n  cpus_per_task: 4\n');
  const ok = await loadExperiment(good);
  assert.deepEqual(ok.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(ok.config.cluster.partition, 'gpu');
  assert.equal(ok.config.cluster.cpus_per_task, 4);
  assert.equal(ok.config.cluster.time, null, 'unset keys keep their defaults');
  const bad = join(dir, 'bad.ava.yaml');
  writeFileSync(bad, 'name: c\ncluster:\n  partiton: gpu\n  cpus_per_task: 0\ndata: { task: harmless }\n');
  const errors = (await loadExperiment(bad)).diagnostics.filter((d) => d.severity === 'error');
  assert.ok(errors.some((d) => d.line === 3 && /partiton/.test(d.key + d.message)), JSON.stringify(errors));
  assert.ok(errors.some((d) => d.line === 4 && d.key === 'cluster.cpus_per_task'), JSON.stringify(errors));
});

const ROOT = join(import.meta.dirname, '..');
const CLI = [process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts')];
/** The CLI with a PATH that holds node alone: no Slurm tools, whatever this machine has. */
function cliWithoutSlurm(args: string[], cwd: string) {
  const bin = mkdtempSync(join(tmpdir(), 'ava-bin-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  const r = spawnSync(CLI[0], [...CLI.slice(1), ...args], { cwd, encoding: 'utf8', env: { ...process.env, PATH: bin, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tinyGridFile(dir: string): string {
  const file = join(dir, 'c.ava.yaml');
  writeFileSync(file, 'name: c\nseeds: [0, 1]\nablations:\n  "w/o rwt": { model: { use_reward_weights: false } }\n  bt: { objective: { kind: bt } }\ndata: { task: harmless }\ncluster: { partition: short, time: "1:00:00" }\n');
  return file;
}

test('submit --dry-run prints the script with the YAML options and flags over them, and writes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-dry-'));
  const r = cliWithoutSlurm(['submit', tinyGridFile(dir), '--slurm', '--dry-run', '--out', join(dir, 'g'), '--time', '0:30:00', '--sbatch=--exclusive'], dir);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  for (const l of ['#SBATCH --array=0-3', '#SBATCH --partition=short', '#SBATCH --time=0:30:00', '#SBATCH --exclusive', "variants=('w/o rwt' 'w/o rwt' bt bt)", 'seeds=(0 1 0 1)']) assert.ok(lines.includes(l), `${l} in\n${r.stdout}`);
  assert.ok(!existsSync(join(dir, 'g')), 'a dry run creates no grid folder');
});

test('without the Slurm tools on PATH, submit and status say so (and status still shows the last states seen)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ava-noslurm-'));
  const sub = cliWithoutSlurm(['submit', tinyGridFile(dir), '--slurm', '--out', join(dir, 'g')], dir);
  assert.notEqual(sub.code, 0);
  assert.match(sub.stderr + sub.stdout, /'sbatch' is not on PATH/);
  assert.ok(!existsSync(join(dir, 'g')), 'nothing was queued: no grid folder is left');
  // A grid that was submitted elsewhere: status reads what grid.json kept, and warns.
  const grid = join(dir, 'g');
  assert.equal(cliWithoutSlurm(['run', tinyGridFile(dir), '--out', grid, '--only', 'none'], dir).code, 2, 'no cell named none');
  mkdirSync(grid, { recursive: true });
  writeFileSync(join(grid, 'grid.json'), JSON.stringify({ experiment: 'c', experiment_file: tinyGridFile(dir), created: '', cells: [0, 1, 2, 3].map((i) => ({ variant: i < 2 ? 'w/o rwt' : 'bt', seed: i % 2, dir: `${i < 2 ? 'w-o-rwt' : 'bt'}/seed-${i % 2}` })) }));
  const manifest = JSON.parse(readFileSync(join(grid, 'grid.json'), 'utf8')) as GridManifest;
  manifest.slurm = { submissions: [{ job_id: '5', cells: [0, 1, 2, 3], script: '', submitted: '', options: DEFAULT_CLUSTER }], tasks: { 1: { job: '5_1', state: 'OUT_OF_MEMORY', reason: 'OutOfMemory', node: 'n3', exit_code: '0:125', source: 'sacct', seen: '' } } };
  writeFileSync(join(grid, 'grid.json'), JSON.stringify(manifest));
  const st = cliWithoutSlurm(['status', grid], dir);
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stderr + st.stdout, /'squeue' is not on PATH|'sacct' is not on PATH/);
  assert.match(st.stdout, /1\s+w\/o rwt\s+1\s+failed .*5_1\s+n3\s+Slurm: OUT_OF_MEMORY \(out of memory/);
});
