// `custody grade IMAGE`: the Container Health Index grade of an image (A–F, from the age
// of its unapplied Critical and Important security errata), when it drops next and why.
import { CLIENT_FLAGS_USAGE } from './arguments.ts';
import type { Command } from './main.ts';
import { FORMAT_FLAG, SCAN_FLAGS_USAGE, databaseLine, formatDay, jsonFormat, runScanFromArgs, shownGrade } from './scan-command.ts';
import { dataAgeText } from '../scan/coverage.ts';
import { table } from './output.ts';

export const gradeCommand: Command = {
  name: 'grade',
  summary: 'grade an image A–F by the age of its unapplied Critical and Important errata',
  usage: [
    'Usage: custody grade IMAGE [--format json] [--vulndb PATH] [--platform OS/ARCH[/VARIANT]] [global options]',
    '',
    'A: no unapplied Critical or Important security errata. B: none older than 7 days',
    '(Critical) or 30 days (Important); C: 30 / 90 days; D: 90 days / 12 months;',
    'E: Critical up to 12 months; F: older. Moderate and Low never lower the grade.',
    '?: no grade, for want of advisory data (the reason is shown). Every grade shows the',
    'age of the data behind it.',
    '',
    SCAN_FLAGS_USAGE,
    '',
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { result, checked: json } = await runScanFromArgs(args, FORMAT_FLAG, 'grade', jsonFormat);
    const grade = shownGrade(result);
    if (json) {
      process.stdout.write(`${JSON.stringify({ image: result.image, digest: result.index.manifestDigest, ...grade, database: result.database }, null, 2)}\n`);
      return 0;
    }
    const lines = [`${result.image}: grade ${grade.grade}${grade.reason ? ` (${grade.reason})` : ''}`, `data as of ${dataAgeText(grade.data, Date.now())}`];
    if (grade.next) lines.push(`drops to ${grade.next.grade} on ${formatDay(grade.next.at)} unless updated`);
    if (grade.timeline.length > 2) lines.push(`timeline: ${grade.timeline.map((step) => `${step.grade} from ${formatDay(step.from)}`).join(', ')}`);
    if (grade.deciding.length > 0) {
      lines.push('', 'unapplied Critical and Important security errata:');
      lines.push(table([['ADVISORY', 'SEVERITY', 'ISSUED'], ...grade.deciding.map((d) => [d.advisoryId, d.severity, formatDay(d.issued)])]));
    }
    lines.push('', databaseLine(result.database));
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
