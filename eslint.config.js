// The project's linter (`npm run lint`): ESLint's flat config with typescript-eslint and
// @stylistic, written to fit the code as it is (Architect's own style): no semicolons, a space
// before a function's parenthesis, single quotes, 2-space indent, `else`/`catch`/`finally` on
// their own line. Type-aware rules are the few that catch real bugs cheaply (promises nobody
// awaits). Colour codes written by hand (rather than with Architect's chalk) are not a lint
// rule: review catches those.
import { builtinRules } from 'eslint/use-at-your-own-risk'
import stylistic from '@stylistic/eslint-plugin'
import tseslint from 'typescript-eslint'

// ESLint's own recommended rules (the list @eslint/js ships), from the rules' metadata, so the
// config needs no package beyond eslint itself.
const eslintRecommended = Object.fromEntries(
  [ ...builtinRules ].filter(([ , rule ]) => rule.meta?.docs?.recommended).map(([ name ]) => [ name, 'error' ]),
)

export default tseslint.config(
  {
    ignores: [ 'dist/', 'node_modules/', '.cache/', 'coverage/', 'example-app/', '**/.gitlab-ci-local/' ],
  },
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: eslintRecommended,
  },
  // After ESLint's list: turns off what TypeScript checks itself (no-undef, no-redeclare, ...).
  ...tseslint.configs.recommended,
  {
    files: [ '**/*.ts' ],
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [ 'error', {
        // node:test's test()/describe()/it() return promises the runner itself awaits.
        allowForKnownSafeCalls: [ { from: 'package', package: 'node:test', name: [ 'test', 'describe', 'it', 'suite' ] } ],
      } ],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    plugins: { '@stylistic': stylistic },
    rules: {
      'prefer-const': 'error',
      'no-var': 'error',
      eqeqeq: [ 'error', 'smart' ],
      'object-shorthand': [ 'error', 'properties' ],
      // `_name` marks a value left out on purpose (`const { host: _h, ...rest } = headers`).
      '@typescript-eslint/no-unused-vars': [ 'error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true,
      } ],

      '@stylistic/semi': [ 'error', 'never' ],
      '@stylistic/quotes': [ 'error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' } ],
      // ignoreComments: @stylistic 6's indent takes a `/*` inside a block comment's text (as in
      // `@aws-sdk/*, @smithy/*`) for a comment start, and its --fix would cut the line there.
      '@stylistic/indent': [ 'error', 2, { SwitchCase: 1, flatTernaryExpressions: true, ignoreComments: true, ignoredNodes: [ 'TemplateLiteral *' ] } ],
      '@stylistic/space-before-function-paren': [ 'error', 'always' ],
      '@stylistic/brace-style': [ 'error', 'stroustrup', { allowSingleLine: true } ],
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/comma-spacing': 'error',
      '@stylistic/key-spacing': 'error',
      '@stylistic/arrow-spacing': 'error',
      '@stylistic/comma-dangle': [ 'error', 'only-multiline' ],
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/eol-last': 'error',
      '@stylistic/no-multiple-empty-lines': [ 'error', { max: 1, maxBOF: 0, maxEOF: 0 } ],
      '@stylistic/no-tabs': 'error',
      // Type members end with a line break, or a comma on one line: `{ a: string, b?: number }`.
      '@stylistic/member-delimiter-style': [ 'error', {
        multiline: { delimiter: 'none' },
        singleline: { delimiter: 'comma', requireLast: false },
      } ],
      // 140: the widest the code's one-line guards and test tables need once the few outliers
      // are wrapped, and still readable side by side on a laptop. String, template and regular
      // expression literals may run past it, so a message stays one greppable piece.
      '@stylistic/max-len': [ 'error', {
        code: 140,
        ignoreStrings: true,
        ignoreTemplateLiterals: true,
        ignoreRegExpLiterals: true,
        ignoreUrls: true,
      } ],
    },
  },
  {
    // The house rule on size: functions under ~60 lines. A module's size follows its concept: no
    // line limit per module (one split a concept in two by length).
    files: [ 'src/**/*.ts' ],
    rules: {
      'max-lines-per-function': [ 'error', { max: 60, skipBlankLines: true, skipComments: true } ],
    },
  },
  {
    // What a deploy loads (all but the CLI) takes node:fs, node:http, node:https and node:util
    // through src/shared/builtins.ts: an ES import of those builtins builds their ES module
    // facade, which loads fs/promises or undici (5 to 30 ms), even in `arc`.
    files: [ 'src/**/*.ts' ],
    ignores: [ 'src/cli/**', 'src/shared/builtins.ts' ],
    rules: {
      'no-restricted-imports': [ 'error', {
        paths: [ 'node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:util' ].map(name => ({
          name,
          allowTypeImports: true,
          message: 'Use src/shared/builtins.ts: an ES import of this builtin costs 5 to 30 ms on the deploy path.',
        })),
      } ],
    },
  },
  {
    // Tests inspect whatever a library throws.
    files: [ 'test/**' ],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)
