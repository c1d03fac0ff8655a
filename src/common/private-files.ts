import { chmod, mkdir, open, rename, unlink } from 'node:fs/promises';

/**
 * Files that hold live secrets (development mail and SMS with their codes, the first admin's password):
 * a directory only the service's user can enter, and files only it can read.
 */

/** Makes the directory private, even if it existed before with wider rights. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * Creates a file with O_EXCL (`wx`), so that a symlink planted in its place is never followed, and
 * mode 0600 whatever the umask. A file left half-written by a failure is removed.
 */
export async function writePrivateFile(file: string, content: string | Buffer): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    // The umask can only take bits away from 0600; this makes sure that none is missing either.
    await handle.chmod(0o600);
    await handle.writeFile(content);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await unlink(file).catch(() => undefined);
    throw e;
  }
  await handle.close();
}

/** As writePrivateFile, but the file appears whole under its name (a rename), so no reader sees half of it. */
export async function publishPrivateFile(file: string, content: string | Buffer): Promise<void> {
  const partial = `${file}.partial`;
  await writePrivateFile(partial, content);
  await rename(partial, file);
}
