import { availableParallelism } from 'node:os';

/**
 * libuv's thread pool runs argon2 (and file and DNS work). Its default of four threads lets four hashes
 * run at once on a two-core machine: no faster than two, and each thread's allocator keeps a 19 MiB
 * block afterwards (measured: 226 MB peak RSS during a login storm, 192 MB with one thread per core).
 * It must be set before the pool's first use, so this module is imported first. An operator's own
 * UV_THREADPOOL_SIZE wins.
 */
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));
