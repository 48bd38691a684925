/**
 * Code that makes the same call as the page, for cURL, JavaScript (fetch, Node 18+ or a browser)
 * and Python (requests). The key is read from the BANATIE_API_KEY environment variable so that
 * snippets can be shared without leaking it.
 */
export interface Snippets {
  curl: string;
  javascript: string;
  python: string;
}

const KEY_VARIABLE = "BANATIE_API_KEY";

/** Quotes text for a POSIX shell, inside single quotes. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/** A JSON value as a Python literal (True/False/None instead of true/false/null). */
export function pythonLiteral(value: unknown, indent = 0): string {
  const pad = " ".repeat(indent + 4);
  const end = " ".repeat(indent);
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((item) => `${pad}${pythonLiteral(item, indent + 4)},`).join("\n")}\n${end}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${pythonLiteral(v, indent + 4)},`).join("\n")}\n${end}}`;
}

/**
 * How every snippet ends: the stored image's URL, found at `urlPath` inside the answer's `data`
 * (`url` for an upload, `outputImage.url` for a v1 generation), or the problem's code and detail.
 */
function jsPrintUrl(urlPath: string): string[] {
  return [
    `const result = await response.json();`,
    `if (!response.ok) throw new Error(\`\${result.code}: \${result.detail}\`);`,
    `console.log(result.data.${urlPath});`,
  ];
}

function pyPrintUrl(urlPath: string): string[] {
  const keys = urlPath
    .split(".")
    .map((key) => `[${JSON.stringify(key)}]`)
    .join("");
  return [
    `result = response.json()`,
    `if not response.ok:`,
    `    raise SystemExit(f"{result['code']}: {result['detail']}")`,
    `print(result["data"]${keys})`,
  ];
}

/** A JSON POST to `url` with `body`, printing the image URL found at `urlPath` in the answer's data. */
export function jsonPostSnippets(url: string, body: unknown, urlPath = "url"): Snippets {
  const json = JSON.stringify(body);
  const pretty = JSON.stringify(body, null, 2);
  return {
    curl: [
      `# export ${KEY_VARIABLE}=bnt_pk_...`,
      `curl -sS -X POST ${shellQuote(url)} \\`,
      `  -H "X-API-Key: $${KEY_VARIABLE}" \\`,
      `  -H "Content-Type: application/json" \\`,
      `  -d ${shellQuote(json)}`,
    ].join("\n"),
    javascript: [
      `// Node 18+ (save as .mjs); the key comes from the environment.`,
      `const response = await fetch(${JSON.stringify(url)}, {`,
      `  method: "POST",`,
      `  headers: { "X-API-Key": process.env.${KEY_VARIABLE}, "Content-Type": "application/json" },`,
      `  body: JSON.stringify(${pretty.replaceAll("\n", "\n  ")}),`,
      `});`,
      ...jsPrintUrl(urlPath),
    ].join("\n"),
    python: [
      `import os`,
      ``,
      `import requests`,
      ``,
      `response = requests.post(`,
      `    ${JSON.stringify(url)},`,
      `    headers={"X-API-Key": os.environ["${KEY_VARIABLE}"]},`,
      `    json=${pythonLiteral(body, 4)},`,
      `    timeout=120,`,
      `)`,
      ...pyPrintUrl(urlPath),
    ].join("\n"),
  };
}

/** A multipart upload of a local file to `url`, with extra text fields. */
export function uploadSnippets(url: string, fileName: string, fields: Record<string, string>): Snippets {
  const curlFields = Object.entries(fields).map(([name, value]) => `  -F ${shellQuote(`${name}=${value}`)} \\`);
  const jsFields = Object.entries(fields).map(
    ([name, value]) => `form.append(${JSON.stringify(name)}, ${JSON.stringify(value)});`,
  );
  const pyFields = Object.entries(fields).map(([name, value]) => `${JSON.stringify(name)}: ${JSON.stringify(value)}`);
  return {
    curl: [
      `# export ${KEY_VARIABLE}=bnt_pk_...`,
      `curl -sS -X POST ${shellQuote(url)} \\`,
      `  -H "X-API-Key: $${KEY_VARIABLE}" \\`,
      ...curlFields,
      `  -F ${shellQuote(`file=@${fileName}`)}`,
    ].join("\n"),
    javascript: [
      `// Node 20+ (save as .mjs): fs.openAsBlob streams the file from disk.`,
      `import { openAsBlob } from "node:fs";`,
      ``,
      `const form = new FormData();`,
      `form.append("file", await openAsBlob(${JSON.stringify(fileName)}), ${JSON.stringify(fileName)});`,
      ...jsFields,
      `const response = await fetch(${JSON.stringify(url)}, {`,
      `  method: "POST",`,
      `  headers: { "X-API-Key": process.env.${KEY_VARIABLE} },`,
      `  body: form,`,
      `});`,
      ...jsPrintUrl("url"),
    ].join("\n"),
    python: [
      `import os`,
      ``,
      `import requests`,
      ``,
      `with open(${JSON.stringify(fileName)}, "rb") as file:`,
      `    response = requests.post(`,
      `        ${JSON.stringify(url)},`,
      `        headers={"X-API-Key": os.environ["${KEY_VARIABLE}"]},`,
      `        files={"file": (${JSON.stringify(fileName)}, file)},`,
      `        data={${pyFields.join(", ")}},`,
      `        timeout=120,`,
      `    )`,
      ...pyPrintUrl("url"),
    ].join("\n"),
  };
}
