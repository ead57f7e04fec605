// A real one-node Slurm for the tests: writes a slurm.conf for this machine into a fresh
// folder, starts its own munged (own key and socket), slurmctld and slurmd, waits until the
// node is idle, and stops all three on stop() (or at process exit, whatever happens).
// Uses Debian's slurm-wlm and munge; nothing is mocked. Needs root (slurmd runs jobs as
// their users), as on a CI machine.
//
//   import { startCluster } from './slurm/cluster.mjs';
//   const c = await startCluster();   // c.env: { SLURM_CONF } to pass to sbatch & co.
//   ...; await c.stop();
//
// From a shell: node test/slurm/cluster.mjs start DIR   /   node test/slurm/cluster.mjs stop DIR
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const TOOLS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'];
/** With these too, the cluster keeps accounting (slurmdbd on MariaDB), so `sacct` answers as on a real cluster. */
const ACCOUNTING_TOOLS = ['slurmdbd', 'mariadbd', 'mariadb-install-db', 'mariadb', 'sacct'];

const has = (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;

/** Whether the cluster can keep accounting here (Debian's slurmdbd and mariadb-server installed). */
export function accountingAvailable() {
  return ACCOUNTING_TOOLS.every(has);
}

/** Why a one-node Slurm cannot run here, or null when it can. */
export function slurmUnavailable() {
  for (const t of TOOLS) if (!has(t)) return `'${t}' not found (apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'a one-node Slurm needs root (slurmd starts jobs as their users)';
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pidOf(file) {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || null;
  } catch {
    return null;
  }
}

function killPidFile(file) {
  const pid = pidOf(file);
  if (!pid) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}

const PID_FILES = ['slurmd.pid', 'slurmctld.pid', 'slurmdbd.pid', 'mariadb/mysqld.pid', 'munged.pid'];

/** Stops the daemons of a cluster folder (safe to call twice). */
export function stopClusterDir(dir) {
  for (const f of PID_FILES) killPidFile(join(dir, f));
}

/** Starts MariaDB and slurmdbd for the cluster in `dir`; returns the slurmdbd port. */
async function startAccounting(dir, socket, env) {
  const db = join(dir, 'mariadb');
  mkdirSync(join(db, 'data'), { recursive: true });
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${db}/data`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'pipe' });
  const [dbPort, dbdPort] = [await freePort(), await freePort()];
  const server = spawn('mariadbd', ['--no-defaults', `--datadir=${db}/data`, '--user=root', `--socket=${db}/mysql.sock`, `--port=${dbPort}`, '--bind-address=127.0.0.1', `--pid-file=${db}/mysqld.pid`, `--log-error=${db}/mysqld.err`], { detached: true, stdio: 'ignore' });
  server.unref();
  for (let i = 0; ; i++) {
    const r = spawnSync('mariadb', ['--no-defaults', '-S', `${db}/mysql.sock`, '-u', 'root', '-e', "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"], { encoding: 'utf8' });
    if (r.status === 0) break;
    if (i > 60) throw new Error(`MariaDB did not start: ${r.stderr}`);
    await sleep(250);
  }
  const conf = join(dir, 'slurmdbd.conf');
  writeFileSync(
    conf,
    [
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'DbdHost=localhost',
      'DbdAddr=127.0.0.1',
      `DbdPort=${dbdPort}`,
      'SlurmUser=root',
      'StorageType=accounting_storage/mysql',
      'StorageHost=127.0.0.1',
      `StoragePort=${dbPort}`,
      'StorageUser=slurm',
      'StoragePass=slurm',
      'StorageLoc=slurm_acct_db',
      `PidFile=${dir}/slurmdbd.pid`,
      `LogFile=${dir}/log/slurmdbd.log`,
      '',
    ].join('\n'),
  );
  chmodSync(conf, 0o600);
  execFileSync('slurmdbd', [], { env, stdio: 'pipe' });
  for (let i = 0; ; i++) {
    if (await portOpen(dbdPort)) return dbdPort;
    if (i > 80) throw new Error('slurmdbd did not start listening');
    await sleep(250);
  }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts a cluster in `dir` (a new temp folder by default). Options: `killWait` seconds
 * between Slurm's SIGTERM and SIGKILL (Slurm's default is 30); `accounting` (default: when
 * slurmdbd and MariaDB are installed) keeps job accounting, so ended jobs answer `sacct`.
 */
export async function startCluster({ dir = mkdtempSync(join(tmpdir(), 'ava-slurm-')), killWait = 5, accounting = accountingAvailable() } = {}) {
  const why = slurmUnavailable();
  if (why) throw new Error(`cannot start a one-node Slurm: ${why}`);
  for (const d of ['state', 'spool', 'log', 'munge']) mkdirSync(join(dir, d), { recursive: true });
  const host = hostname().split('.')[0];
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const socket = join(dir, 'munge', 'munge.socket');
  const key = join(dir, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024));
  chmodSync(key, 0o400);
  chmodSync(join(dir, 'munge'), 0o700);
  const memMb = Math.floor((totalmem() / 2 ** 20) * 0.8);
  const conf = join(dir, 'slurm.conf');
  const env = { ...process.env, SLURM_CONF: conf };
  const stop = () => stopClusterDir(dir);
  process.once('exit', stop);
  let dbdPort = 0;
  try {
    execFileSync('munged', ['--force', `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${dir}/munged.pid`, `--log-file=${dir}/log/munged.log`, `--seed-file=${dir}/munge/seed`], { stdio: 'pipe' });
    if (accounting) dbdPort = await startAccounting(dir, socket, env);
  } catch (e) {
    stop();
    throw new Error(`${e.message}\n${logTails(dir)}`);
  }
  writeFileSync(
    conf,
    [
      '# One-node Slurm for the AVA Lab tests (test/slurm/cluster.mjs). No cgroups. With accounting',
      '# (slurmdbd on MariaDB) ended jobs answer sacct; without it, scontrol while the controller keeps them.',
      'ClusterName=avalab-test',
      `SlurmctldHost=${host}(127.0.0.1)`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'CredType=cred/munge',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      ...(dbdPort ? ['AccountingStorageType=accounting_storage/slurmdbd', 'AccountingStorageHost=127.0.0.1', `AccountingStoragePort=${dbdPort}`, `AccountingStoragePass=${socket}`] : ['AccountingStorageType=accounting_storage/none']),
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'ReturnToService=2',
      `KillWait=${killWait}`,
      'MinJobAge=3600',
      'InactiveLimit=0',
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus().length} RealMemory=${memMb} State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  try {
    execFileSync('slurmctld', ['-f', conf], { env, stdio: 'pipe' });
    execFileSync('slurmd', ['-f', conf, '-N', host], { env, stdio: 'pipe' });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = spawnSync('sinfo', ['-h', '-o', '%t'], { env, encoding: 'utf8', timeout: 5000 });
      if (r.status === 0 && /^idle/m.test(r.stdout)) break;
      if (Date.now() > deadline) throw new Error(`the node did not come up within 60 s: sinfo says '${(r.stdout + r.stderr).trim()}'`);
      await sleep(500);
    }
  } catch (e) {
    stop();
    throw new Error(`${e.message}\n${logTails(dir)}`);
  }
  return {
    dir,
    conf,
    accounting: dbdPort > 0,
    env: { SLURM_CONF: conf },
    async stop() {
      process.removeListener('exit', stop);
      stop();
      for (let i = 0; i < 40 && PID_FILES.some((f) => alive(pidOf(join(dir, f)))); i++) await sleep(250);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function logTails(dir) {
  const files = ['slurmctld.log', 'slurmd.log', 'slurmdbd.log', 'munged.log'].map((f) => join(dir, 'log', f)).concat(join(dir, 'mariadb', 'mysqld.err'));
  return files.filter(existsSync).map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}`).join('\n');
}

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cmd, dir] = process.argv.slice(2);
  if (cmd === 'start') {
    const c = await startCluster(dir ? { dir } : {});
    process.removeAllListeners('exit');
    console.log(`export SLURM_CONF=${c.conf}`);
  } else if (cmd === 'stop' && dir) stopClusterDir(dir);
  else {
    console.error('usage: node test/slurm/cluster.mjs start [DIR] | stop DIR');
    process.exit(2);
  }
}
