/**
 * How a Lambda handler is bundled: one source for the stack (NodejsFunction's esbuild CLI, via
 * `nodejsFunctionBundling`) and the bench (esbuild's API, via `esbuildBuildOptions`), so the
 * sizes and import times the bench prints are those of what `cdk deploy` ships.
 *
 * Size goals (issue 14; checked by test/cdk/cdk-synth.test.ts on the synthesized assets and
 * printed by `npm run bench -- bundles`): sampler and remediator ≤ 2.0 MB, notifier ≤ 600 KB.
 * (Measured 2026-12-02: 1.85, 1.68 and 0.54 MB, from 3.11, 2.95 and 0.54 MB.)
 * What keeps them there, besides minifying and tree shaking:
 * - `module` before `main`: client-node and middy are ESM-only; ESM builds tree-shake.
 * - `undici` → lib/bundling/undici-fetch.mjs: client-node imports fetch, Agent and ProxyAgent
 *   from undici's index, which (CommonJS, not tree-shakable) drags in every other undici
 *   feature; the substitute loads just those three (−360 KB).
 * - `esbuildDetection` defined: undici's own switch for bundled builds (Node core sets it), which
 *   leaves out the experimental Milo HTTP parser and its two WASM builds (−150 KB); the llhttp
 *   parser undici uses by default stays.
 * - src/kube/kube-api.ts instead of client-node's generated API classes (−0.9 MB; see there).
 */
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** Minified bundle size goals in bytes, by function folder name. */
export const BUNDLE_SIZE_GOALS: Readonly<Record<'sampler' | 'remediator' | 'notifier', number>> = {
  sampler: 2_000_000,
  remediator: 2_000_000,
  notifier: 600_000,
};

const UNDICI_FETCH = fileURLToPath(new URL('./undici-fetch.mjs', import.meta.url));

/** CommonJS dependencies bundled into an ES module still call require(). */
const REQUIRE_BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** The settings both bundlers share. */
const LAMBDA_BUNDLE = {
  platform: 'node',
  format: 'esm',
  // client-node and middy are ESM-only; `module` first picks their ESM builds.
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  banner: REQUIRE_BANNER,
  define: { esbuildDetection: 'true' },
  alias: { undici: UNDICI_FETCH },
} as const;

/** NodejsFunction `bundling` for a function on Node `nodeMajor` (the stack's only bundling settings). */
export function nodejsFunctionBundling(nodeMajor: number): BundlingOptions {
  return {
    // The esbuild in node_modules bundles locally; CDK would fall back to Docker only if it
    // were missing (test/cdk/cdk-synth.test.ts checks that it never does).
    forceDockerBundling: false,
    format: OutputFormat.ESM,
    target: `node${nodeMajor}`,
    platform: LAMBDA_BUNDLE.platform,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    banner: LAMBDA_BUNDLE.banner,
    define: { ...LAMBDA_BUNDLE.define },
    esbuildArgs: { '--alias': Object.entries(LAMBDA_BUNDLE.alias).map(([name, path]) => `${name}=${path}`) },
    // Bundle the AWS SDK too: the versions in package-lock.json are the ones tested.
    externalModules: [],
    minify: LAMBDA_BUNDLE.minify,
    sourceMap: LAMBDA_BUNDLE.sourceMap,
    sourcesContent: LAMBDA_BUNDLE.sourcesContent,
    // CDK's documented default, made explicit: without it the esbuild CLI prints its summary, which
    // flags every output of 1 MiB or more with ⚠️ at each synth. The sizes are checked against the
    // goals above instead (test/cdk/cdk-synth.test.ts); real esbuild warnings still print.
    logLevel: LogLevel.WARNING,
  };
}

/** The same bundle through esbuild's API (the bench), written to `outfile`. */
export function esbuildBuildOptions(entry: string, outfile: string, nodeMajor = 22): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    target: `node${nodeMajor}`,
    platform: LAMBDA_BUNDLE.platform,
    format: LAMBDA_BUNDLE.format,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    banner: { js: LAMBDA_BUNDLE.banner },
    define: { ...LAMBDA_BUNDLE.define },
    alias: { ...LAMBDA_BUNDLE.alias },
    minify: LAMBDA_BUNDLE.minify,
    sourcemap: LAMBDA_BUNDLE.sourceMap,
    sourcesContent: LAMBDA_BUNDLE.sourcesContent,
    logLevel: 'error',
  };
}
