import { spawnSync } from 'node:child_process';

/** Thrown with a message a newcomer can act on when something the local stack needs is missing. */
export class MissingPrerequisiteError extends Error {
  override name = 'MissingPrerequisiteError';
}

const MIN_NODE = [20, 19];
const MIN_JAVA = 17;

export function javaMajorVersion(versionOutput: string): number | undefined {
  // `openjdk version "17.0.15"`, `java version "1.8.0_392"`, `openjdk 21 2023-09-19`
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput) ?? /^\w+ (\d+)/m.exec(versionOutput);
  if (!match?.[1]) return undefined;
  const major = Number(match[1]);
  return major === 1 && match[2] ? Number(match[2]) : major;
}

/** Checks Node and Java (DynamoDB Local is a Java program) and names whatever is missing. */
export function checkPrerequisites(): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < (MIN_NODE[0] ?? 0) || (major === MIN_NODE[0] && minor < (MIN_NODE[1] ?? 0))) {
    throw new MissingPrerequisiteError(
      `Node.js ${MIN_NODE.join('.')} or newer is required; this is ${process.versions.node}.`,
    );
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    throw new MissingPrerequisiteError(
      `Java ${MIN_JAVA} or newer is required to run DynamoDB Local, and no 'java' was found on PATH. ` +
        'Install a JDK or JRE (for example: apt-get install openjdk-17-jre-headless, or brew install openjdk@17).',
    );
  }
  const version = javaMajorVersion(`${java.stderr}${java.stdout}`);
  if (version !== undefined && version < MIN_JAVA) {
    throw new MissingPrerequisiteError(
      `Java ${MIN_JAVA} or newer is required to run DynamoDB Local; found Java ${version}.`,
    );
  }
}
