// ESLint for the page's JavaScript, beside ruff for the Python: `npx eslint .` (.ci/run).
// web/*.js are ES modules that the browser loads; web/*.onload.js are not modules but the
// bodies of the functions Gradio runs for an HTML component's js_on_load.
import js from "@eslint/js";
import globals from "globals";

// What Gradio 6 hands a js_on_load body (../shared/GRADIO-NOTES.md).
const JS_ON_LOAD = ["element", "trigger", "props", "server", "upload", "watch"];

export default [
  js.configs.recommended,
  {
    files: ["web/**/*.js"],
    languageOptions: { ecmaVersion: "latest", sourceType: "module", globals: globals.browser },
  },
  {
    files: ["web/**/*.onload.js"],
    languageOptions: {
      sourceType: "script",
      // a function body: it may end with a top-level return
      parserOptions: { ecmaFeatures: { globalReturn: true } },
      globals: { ...globals.browser, ...Object.fromEntries(JS_ON_LOAD.map((name) => [name, "readonly"])) },
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
