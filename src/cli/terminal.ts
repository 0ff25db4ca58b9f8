// What the commands read from the person at the keyboard: standard input, and questions
// asked on the terminal (a short name's candidates; `custody login`'s user name). The
// clients never ask themselves: they receive these as callbacks.
import { createInterface } from 'node:readline';
import { UsageError } from '../core/errors.ts';
import type { ImageReference } from '../client/reference.ts';

/** All of standard input, as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks on the terminal which candidate a short name means (ImageResolver's prompt). */
export async function promptForCandidate(shortName: string, candidates: readonly ImageReference[]): Promise<ImageReference> {
  process.stderr.write(`? Please select an image for "${shortName}":\n`);
  for (const [index, candidate] of candidates.entries()) process.stderr.write(`  ${index + 1}) ${candidate.toString()}\n`);
  const answer = await ask(`Enter a number (1-${candidates.length}): `);
  const choice = Number(answer.trim());
  const picked = Number.isInteger(choice) ? candidates[choice - 1] : undefined;
  if (picked === undefined) throw new UsageError(`no image selected for short name "${shortName}"`);
  return picked;
}

/** Reads one line from the terminal, echoing it. */
export function ask(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}
