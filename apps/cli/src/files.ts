/** Reading and writing the files commands take and produce (snapshots, reports). */
import { readFile, writeFile } from 'node:fs/promises';
import { UsageError } from './errors.js';

/**
 * Reads a JSON file given on the command line.
 * @throws SR_CLI_USAGE when it is missing, unreadable or not JSON (exit 2)
 */
export async function readJsonFile(path: string, option: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`${option}: cannot read ${path} (${String(code ?? error)})`, {
      field: option.replace(/^--/, ''),
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${option}: ${path} is not JSON (${(error as Error).message})`, {
      field: option.replace(/^--/, ''),
      cause: error,
    });
  }
}

/**
 * Writes a file given on the command line (UTF-8, newline-terminated).
 * @throws SR_CLI_USAGE when it cannot be written (exit 2)
 */
export async function writeTextFile(path: string, text: string, option: string): Promise<void> {
  try {
    await writeFile(path, text.endsWith('\n') ? text : `${text}\n`, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`${option}: cannot write ${path} (${String(code ?? error)})`, {
      field: option.replace(/^--/, ''),
      cause: error,
    });
  }
}
