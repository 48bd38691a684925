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

/** `outputImage.url` as Python subscripts: `["outputImage"]["url"]`. */
function pyKeys(urlPath: string): string {
  return urlPath
    .split(".")
    .map((key) => `[${JSON.stringify(key)}]`)
    .join("");
}

function pyPrintUrl(urlPath: string): string[] {
  const keys = pyKeys(urlPath);
  return [
    `result = response.json()`,
    `if not response.ok:`,
    `    raise SystemExit(f"{result['code']}: {result['detail']}")`,
    `print(result["data"]${keys})`,
  ];
}

/**
 * A JSON POST to `url` with `body`, printing the image URL found at `urlPath` in the answer's data.
 * With `respondAsync`, the request sends `Prefer: respond-async`: the answer is a 202 with the
 * generation pending, so the JavaScript and Python follow its Location until it ends, and cURL
 * prints the pending generation and says how to follow it.
 */
export function jsonPostSnippets(url: string, body: unknown, urlPath = "url", respondAsync = false): Snippets {
  const json = JSON.stringify(body);
  const pretty = JSON.stringify(body, null, 2);
  return {
    curl: [
      `# export ${KEY_VARIABLE}=bnt_pk_...`,
      ...(respondAsync
        ? [
            `# Answers 202 at once with the generation pending. Follow it with its Location header,`,
            `# GET ${new URL(url).origin}/api/v1/generations/<id> with the same key, until data.status is success or failed.`,
          ]
        : []),
      `curl -sS -X POST ${shellQuote(url)} \\`,
      `  -H "X-API-Key: $${KEY_VARIABLE}" \\`,
      `  -H "Content-Type: application/json" \\`,
      ...(respondAsync ? [`  -H "Prefer: respond-async" \\`] : []),
      `  -d ${shellQuote(json)}`,
    ].join("\n"),
    javascript: [
      `// Node 18+ (save as .mjs); the key comes from the environment.`,
      `const response = await fetch(${JSON.stringify(url)}, {`,
      `  method: "POST",`,
      respondAsync
        ? `  headers: { "X-API-Key": process.env.${KEY_VARIABLE}, "Content-Type": "application/json", Prefer: "respond-async" },`
        : `  headers: { "X-API-Key": process.env.${KEY_VARIABLE}, "Content-Type": "application/json" },`,
      `  body: JSON.stringify(${pretty.replaceAll("\n", "\n  ")}),`,
      `});`,
      ...(respondAsync ? jsFollowLocation(urlPath) : jsPrintUrl(urlPath)),
    ].join("\n"),
    python: [
      `import os`,
      ...(respondAsync ? [`import time`, `from urllib.parse import urljoin`] : []),
      ``,
      `import requests`,
      ``,
      `response = requests.post(`,
      `    ${JSON.stringify(url)},`,
      respondAsync
        ? `    headers={"X-API-Key": os.environ["${KEY_VARIABLE}"], "Prefer": "respond-async"},`
        : `    headers={"X-API-Key": os.environ["${KEY_VARIABLE}"]},`,
      `    json=${pythonLiteral(body, 4)},`,
      `    timeout=120,`,
      `)`,
      ...(respondAsync ? pyFollowLocation(urlPath) : pyPrintUrl(urlPath)),
    ].join("\n"),
  };
}

/** After a `Prefer: respond-async` POST: read the generation at its Location each second until it ends. */
function jsFollowLocation(urlPath: string): string[] {
  return [
    `let result = await response.json();`,
    `if (!response.ok) throw new Error(\`\${result.code}: \${result.detail}\`);`,
    `// 202: queued. Follow the Location header until the generation succeeds or fails.`,
    `const location = new URL(response.headers.get("Location"), response.url);`,
    `while (result.data.status === "pending" || result.data.status === "processing") {`,
    `  await new Promise((resolve) => setTimeout(resolve, 1000));`,
    `  const poll = await fetch(location, { headers: { "X-API-Key": process.env.${KEY_VARIABLE} } });`,
    `  result = await poll.json();`,
    `  if (!poll.ok) throw new Error(\`\${result.code}: \${result.detail}\`);`,
    `}`,
    `if (result.data.status === "failed") throw new Error(\`\${result.data.errorCode}: \${result.data.errorMessage}\`);`,
    `console.log(result.data.${urlPath});`,
  ];
}

function pyFollowLocation(urlPath: string): string[] {
  const keys = pyKeys(urlPath);
  return [
    `result = response.json()`,
    `if not response.ok:`,
    `    raise SystemExit(f"{result['code']}: {result['detail']}")`,
    `# 202: queued. Follow the Location header until the generation succeeds or fails.`,
    `location = urljoin(response.url, response.headers["Location"])`,
    `while result["data"]["status"] in ("pending", "processing"):`,
    `    time.sleep(1)`,
    `    poll = requests.get(location, headers={"X-API-Key": os.environ["${KEY_VARIABLE}"]}, timeout=30)`,
    `    result = poll.json()`,
    `    if not poll.ok:`,
    `        raise SystemExit(f"{result['code']}: {result['detail']}")`,
    `if result["data"]["status"] == "failed":`,
    `    raise SystemExit(f"{result['data']['errorCode']}: {result['data']['errorMessage']}")`,
    `print(result["data"]${keys})`,
  ];
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
