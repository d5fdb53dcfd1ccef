import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LocalCfnStack, TemplateEvaluationError } from '../../../../local/cfn/stack.js';
import type { PolicyDocument, PolicyStatement } from '../../../../local/iam/policy.js';
import { buildIamModel, type LocalIamModel } from '../../../../local/iam/roles.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, repoRoot } from '../../../../local/stack.js';
import { type LocalStackModel, loadLocalStackModel } from '../../../../local/stack-model.js';

/**
 * The roles the local stack enforces must be the roles SAM deploys: aws-sam-translator translates each
 * template (.ci/sam-roles.py) and every role's statements (actions and resources, intrinsics resolved)
 * and managed policies must equal ours. Runs with SAM_PYTHON (the SAM venv in .ci/sam-check.sh) or the
 * machine's python3; without the translator it is skipped, unless SAM_ROLES_REQUIRED=1 says it must run.
 */

const python = process.env.SAM_PYTHON ?? 'python3';
const hasTranslator = spawnSync(python, ['-c', 'import samtranslator'], { stdio: 'ignore' }).status === 0;
if (!hasTranslator && process.env.SAM_ROLES_REQUIRED === '1') {
  throw new Error(`${python} cannot import samtranslator, and SAM_ROLES_REQUIRED=1`);
}

type SamRoles = Record<
  string,
  Record<string, { Condition: string | null; ManagedPolicyArns: unknown[]; Policies: unknown[] }>
>;

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** One line per statement: effect, actions and resources, each sorted, so order and Sids don't matter. */
function statementKeys(documents: readonly PolicyDocument[]): string[] {
  return documents
    .flatMap((document) => asList(document.Statement) as PolicyStatement[])
    .map((statement) =>
      JSON.stringify([
        statement.Effect,
        asList(statement.Action ?? statement.NotAction)
          .map(String)
          .sort(),
        asList(statement.Resource ?? statement.NotResource)
          .map(String)
          .sort(),
      ]),
    )
    .sort();
}

/** Each declared parameter's value in this stack, where it has a plain one (given or defaulted). */
function parameterValuesOf(stack: LocalCfnStack): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of Object.keys(stack.template.Parameters ?? {})) {
    try {
      const value = stack.parameter(name);
      if (typeof value === 'string' || typeof value === 'number') values[name] = String(value);
    } catch (error) {
      if (!(error instanceof TemplateEvaluationError)) throw error; // no value: the translator leaves it unresolved
    }
  }
  return values;
}

describe.skipIf(!hasTranslator).each(['Disabled', 'Active'])(
  'with Tracing=%s, local roles match what aws-sam-translator generates',
  (tracing) => {
    let model: LocalStackModel;
    let iam: LocalIamModel;
    let sam: SamRoles;

    beforeAll(async () => {
      model = await loadLocalStackModel({
        templatePath: resolve(repoRoot, 'template.yaml'),
        stackName: 'switchboard',
        // One run with the example moderation hook, so its conditional grant is compared in both states.
        parameters: {
          AuthMode: 'none',
          AllowedOrigin: '*',
          Tracing: tracing,
          ...(tracing === 'Active' ? { ModerationFunction: 'example' } : {}),
        },
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT,
      });
      iam = buildIamModel(model.root, { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT });
      const stacks = [...model.root.all()];
      const paths = stacks.map((stack) => stack.templatePath);
      // The translator resolves some intrinsics (e.g. `Tracing: !Ref Tracing`) from parameter values: give it
      // the values each template has in this model, so both sides build the same stack.
      const parameters = Object.fromEntries(stacks.map((stack) => [stack.templatePath, parameterValuesOf(stack)]));
      const output = execFileSync(python, [resolve(repoRoot, '.ci/sam-roles.py'), ...paths], {
        env: { ...process.env, SAM_ROLES_PARAMETERS: JSON.stringify(parameters) },
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      });
      sam = JSON.parse(output) as SamRoles;
    }, 120_000);

    it('generates the same roles, with the same statements and managed policies', () => {
      const differences: string[] = [];
      const seen = new Set<string>();
      for (const role of iam.roles.values()) {
        const stack = [...model.root.all()].find((candidate) => candidate.templatePath === role.templatePath);
        const theirs = sam[role.templatePath]?.[role.samLogicalId];
        seen.add(`${role.templatePath}#${role.samLogicalId}`);
        if (!stack || !theirs) {
          differences.push(`${role.samLogicalId}: SAM generates no such role`);
          continue;
        }
        // A conditional policy (`Fn::If` in Policies) whose condition is false evaluates to no document.
        const theirPolicies = theirs.Policies.map((policy) => stack.evaluate(policy)).filter(
          (policy): policy is PolicyDocument => typeof policy === 'object' && policy !== null,
        );
        const ours = statementKeys(role.inlinePolicies);
        const expected = statementKeys(theirPolicies);
        if (JSON.stringify(ours) !== JSON.stringify(expected)) {
          differences.push(
            `${role.samLogicalId} statements:\n  ours ${ours.join('\n       ')}\n  SAM  ${expected.join('\n       ')}`,
          );
        }
        const theirManaged = theirs.ManagedPolicyArns.map((arn) => String(stack.evaluate(arn))).sort();
        if (JSON.stringify([...role.managedPolicyArns].sort()) !== JSON.stringify(theirManaged)) {
          differences.push(`${role.samLogicalId} managed policies: ours ${role.managedPolicyArns} SAM ${theirManaged}`);
        }
      }
      for (const [path, roles] of Object.entries(sam)) {
        const stack = [...model.root.all()].find((candidate) => candidate.templatePath === path);
        for (const [logicalId, role] of Object.entries(roles)) {
          // The role of a function whose Condition is false is not created, on AWS or here.
          if (role.Condition && stack && !stack.condition(role.Condition)) continue;
          if (!seen.has(`${path}#${logicalId}`))
            differences.push(`${logicalId} (${path}): SAM generates it, we do not`);
        }
      }
      expect(differences).toEqual([]);
      expect(seen.size).toBeGreaterThan(5);
    });
  },
);
