import { describe, expect, it } from 'vitest';
import { DYNAMODB_LOCAL_JVM_OPTIONS, spawnDynamoDbLocal } from '../../../local/dynamodb.js';
import { freePort } from '../../../local/free-port.js';

describe('spawnDynamoDbLocal', () => {
  it("starts the JVM with DynamoDB Local's options and leaves process.env as it found it", async () => {
    const before = process.env.JAVA_TOOL_OPTIONS;
    const child = spawnDynamoDbLocal({ port: await freePort(), stdio: 'pipe' });
    try {
      expect(process.env.JAVA_TOOL_OPTIONS).toBe(before);
      // The JVM names the options it picked up from the environment on stderr, before anything else.
      const pickedUp = await new Promise<string>((resolve, reject) => {
        let output = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('\n')) resolve(output);
        });
        child.once('exit', (code) => reject(new Error(`JVM exited (${code}): ${output}`)));
      });
      expect(pickedUp).toContain(`Picked up JAVA_TOOL_OPTIONS: ${DYNAMODB_LOCAL_JVM_OPTIONS}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
