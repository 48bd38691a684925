/**
 * Runs a guide's shell examples against the API: its `sh` blocks are read as commands (curl and
 * variable assignments), each followed by the `json` or `http` block showing its answer, and each
 * runs as written, in order, and must get the answer shown. Shared by the guides' tests.
 */
import { expect } from "vitest";
import { freshIp } from "./app";
import { escapeRegExp } from "./openapi-contract";

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** A shell command line of the guide, with the here-document it reads as standard input. */
export interface Command {
  text: string;
  stdin?: string;
}

/**
 * What the guide shows a command answering: the HTTP status, and the JSON body, the headers
 * (an `http` block), or both (an `http` block with a body, as `curl -i` prints it).
 */
export interface Answer {
  status: number;
  json?: unknown;
  headers?: [name: string, value: string][];
}

export type Step = { command: Command; answer?: Answer };

/** The guide's `sh` blocks as commands, each with the `json` or `http` block shown after it. */
export function guideSteps(guide: string): Step[] {
  const steps: Step[] = [];
  let proseStart = 0;
  for (const block of guide.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    const [whole, language, text = ""] = block;
    const prose = guide.slice(proseStart, block.index);
    proseStart = block.index + whole.length;
    if (language === "sh") {
      steps.push(...commandsOf(text).map((command) => ({ command })));
      continue;
    }
    if (language === "js") continue;
    const step = steps.at(-1);
    if (!step || step.answer) throw new Error(`An answer follows no command:\n${text}`);
    step.answer = answerOf(language, text, prose);
  }
  return steps;
}

/** The command lines of a block: continuation lines joined, here-documents attached. */
function commandsOf(block: string): Command[] {
  const lines = block.replace(/\\\n\s*/g, " ").split("\n");
  const commands: Command[] = [];
  for (let index = 0; index < lines.length; index++) {
    const text = (lines[index] ?? "").trim();
    if (text === "" || text.startsWith("#")) continue;
    const hereDoc = /<<'?(\w+)'?\s*$/.exec(text);
    if (!hereDoc) {
      commands.push({ text });
      continue;
    }
    const end = lines.indexOf(hereDoc[1] ?? "", index + 1);
    if (end < 0) throw new Error(`Unterminated here-document in ${text}`);
    if (hereDoc[0].includes("'")) throw new Error("Quoted here-documents are not expanded: use <<EOF");
    commands.push({ text: text.slice(0, hereDoc.index).trim(), stdin: lines.slice(index + 1, end).join("\n") });
    index = end;
  }
  return commands;
}

/** An answer block, with the status the prose before it names in backticks (`201 Created`). */
function answerOf(language: string | undefined, text: string, prose: string): Answer {
  const status = Number([...prose.matchAll(/`([1-5]\d\d) [A-Za-z ]+`/g)].at(-1)?.[1]);
  if (!status) throw new Error(`No status (as \`200 OK\`) before the answer:\n${text}`);
  if (language === "json") return { status, json: JSON.parse(text) };
  if (language === "http") {
    const [head = "", ...body] = text.trim().split("\n\n");
    const [statusLine = "", ...headerLines] = head.split("\n");
    expect(statusLine, "the status line agrees with the prose").toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    return {
      status,
      headers: headerLines.map((line) => {
        const [name = "", ...value] = line.split(": ");
        return [name, value.join(": ")];
      }),
      ...(body.length > 0 ? { json: JSON.parse(body.join("\n\n")) } : {}),
    };
  }
  throw new Error(`Unknown answer block: ${language}`);
}

/** `$NAME` and `${NAME}` replaced by their values; a variable the guide never set fails the test. */
export function expandVariables(text: string, variables: Map<string, string>): string {
  return text.replace(/\$(\w+)|\$\{(\w+)\}/g, (_, bare: string | undefined, braced: string | undefined) => {
    const name = bare ?? braced ?? "";
    const value = variables.get(name);
    if (value === undefined) throw new Error(`$${name} is used before the guide sets it: ${text}`);
    return value;
  });
}

/**
 * Splits a command line into words as a POSIX shell does for what the guide uses: single quotes
 * (literal), double quotes and bare words (with `$NAME` expanded), words made of adjacent parts.
 */
export function shellWords(line: string, variables: Map<string, string>): string[] {
  const expand = (text: string) => expandVariables(text, variables);
  const words: string[] = [];
  for (const [word] of line.matchAll(/(?:'[^']*'|"(?:\\.|[^"\\])*"|[^\s'"]+)+/g)) {
    words.push(
      [...word.matchAll(/'([^']*)'|"((?:\\.|[^"\\])*)"|([^\s'"]+)/g)]
        .map(([, single, double, bare]) =>
          single !== undefined ? single : expand(double !== undefined ? double.replace(/\\(["\\$])/g, "$1") : (bare ?? "")),
        )
        .join(""),
    );
  }
  return words;
}

/** How a guide's requests reach the test Worker. */
export interface GuideTarget {
  /** The URL a guide's URL stands for (its example slugs made the test project's). */
  urlOf?: (url: string) => string;
  /** The files the guide's commands upload (`-F file=@name`). */
  fixtures?: Record<string, () => Promise<Uint8Array>>;
}

/** A curl command as the request it sends; only the options the guide uses, any other fails. */
export async function requestOf(
  words: string[],
  stdin: string | undefined,
  target: GuideTarget = {},
): Promise<{ url: string; init: RequestInit & { method: string } }> {
  const [program, ...args] = words;
  expect(program, words.join(" ")).toBe("curl");
  const headers = new Headers({ "CF-Connecting-IP": freshIp() });
  let method: string | undefined;
  let url: string | undefined;
  let data: string | undefined;
  let form: FormData | undefined;
  let head = false;
  const field = (value: string) => {
    const at = value.indexOf("=");
    if (at < 1) throw new Error(`Not a form field: ${value}`);
    form ??= new FormData();
    return [value.slice(0, at), value.slice(at + 1)] as const;
  };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? "";
    const next = () => args[++index] ?? "";
    if (arg === "-s" || arg === "-sS" || arg === "-i") {
      // Silent, or printing the headers too: changes nothing sent.
    } else if (arg === "-sI" || arg === "-I") head = true;
    else if (arg === "-X") method = next();
    else if (arg === "-H") {
      const [name = "", ...value] = next().split(":");
      headers.set(name, value.join(":").trim());
    } else if (arg === "-d" || arg === "--data") {
      const value = next();
      // As curl reads `-d @file`: the file's content without its line breaks.
      data = value === "@-" ? (stdin ?? "").replace(/[\r\n]/g, "") : value;
      if (data.startsWith("@")) throw new Error(`The guide reads no data file: ${value}`);
    } else if (arg === "-F") {
      const [name, value] = field(next());
      if (value.startsWith("<")) throw new Error(`The guide reads no field from a file: ${value}`);
      if (value.startsWith("@")) {
        // `-F name=@file` uploads the file: curl names it and types it by its extension.
        const file = value.slice(1);
        const fixture = target.fixtures?.[file];
        if (!fixture) throw new Error(`No fixture for ${file}`);
        const type = file.endsWith(".png") ? "image/png" : "application/octet-stream";
        form?.append(name, new File([await fixture()], file, { type }));
      } else {
        form?.append(name, value);
      }
    } else if (arg === "--form-string") {
      const [name, value] = field(next());
      form?.append(name, value);
    } else if (arg.startsWith("-")) throw new Error(`The test does not know curl's ${arg}`);
    else if (url === undefined) url = arg;
    else throw new Error(`Two URLs in ${words.join(" ")}`);
  }
  if (!url) throw new Error(`No URL in ${words.join(" ")}`);
  if (data !== undefined && !headers.has("Content-Type")) headers.set("Content-Type", "application/x-www-form-urlencoded");
  return {
    url: target.urlOf ? target.urlOf(url) : url,
    init: { method: method ?? (data !== undefined || form ? "POST" : head ? "HEAD" : "GET"), headers, body: form ?? data },
  };
}

/**
 * The guide's example ids stand for the ids the API gives: each one it shows for the first time
 * is learned from the real answer, and means that same id wherever it appears again. Two example
 * ids never stand for one real id.
 */
export class ExampleIds {
  private readonly real = new Map<string, string>();

  constructor(private readonly literals: [shown: string, actual: string][]) {}

  /** A shown value with its known ids and the example origin and slugs made real; throws on an unknown id. */
  realize(shown: string): string {
    return this.replaceLiterals(shown).replace(UUID, (id) => {
      const real = this.real.get(id);
      if (!real) throw new Error(`${id} is used before an answer shows it`);
      return real;
    });
  }

  /** Checks a shown string against the real one, learning the ids it shows for the first time. */
  match(shown: string, actual: unknown, path: string): void {
    const parts = shown.split(UUID).map((literal) => this.replaceLiterals(literal));
    const ids = shown.match(UUID) ?? [];
    const pattern = parts
      .map((literal, index) => {
        const id = ids[index];
        const known = id === undefined ? "" : this.real.get(id);
        return escapeRegExp(literal) + (id === undefined ? "" : known ? escapeRegExp(known) : `(${UUID.source})`);
      })
      .join("");
    const found = typeof actual === "string" ? new RegExp(`^${pattern}$`).exec(actual) : null;
    if (!found) {
      expect(actual, path).toBe(shown);
      return;
    }
    const learned = ids.filter((id) => !this.real.has(id));
    for (const [index, id] of learned.entries()) {
      const real = found[index + 1] ?? "";
      if (this.real.get(id) === real) continue;
      const shownAs = [...this.real].find(([, value]) => value === real)?.[0];
      expect(shownAs, `${path}: ${id} is ${real}, which the guide already shows as ${shownAs}`).toBeUndefined();
      this.real.set(id, real);
    }
  }

  private replaceLiterals(text: string): string {
    return this.literals.reduce((result, [shownLiteral, actual]) => result.replaceAll(shownLiteral, actual), text);
  }
}

/** Checks that the real JSON has every member the guide shows, with the value shown (arrays whole). */
export function expectShown(shown: unknown, actual: unknown, ids: ExampleIds, path: string): void {
  if (typeof shown === "string") {
    ids.match(shown, actual, path);
    return;
  }
  if (Array.isArray(shown)) {
    expect(Array.isArray(actual) ? actual.length : actual, `${path}: the length shown`).toBe(shown.length);
    for (const [index, item] of shown.entries()) expectShown(item, (actual as unknown[])[index], ids, `${path}[${index}]`);
    return;
  }
  if (shown !== null && typeof shown === "object") {
    expect(actual, path).toBeTypeOf("object");
    for (const [key, value] of Object.entries(shown)) {
      expect(actual, `${path} has ${key}`).toHaveProperty([key]);
      expectShown(value, (actual as Record<string, unknown>)[key], ids, `${path}.${key}`);
    }
    return;
  }
  expect(actual, path).toEqual(shown);
}

/** The value the guide's setup block exports for a name. */
export function exported(guide: string, name: string): string {
  const value = new RegExp(`^export ${name}=(\\S+)$`, "m").exec(guide)?.[1];
  if (!value) throw new Error(`The guide exports no ${name}`);
  return value;
}

/** What running a guide needs: the reader's own values, the ids to learn, and how a request is sent. */
export interface GuideRun extends GuideTarget {
  /** The values of the setup block that are the reader's own (the URL, the key). */
  own: Map<string, string>;
  ids: ExampleIds;
  /** Sends a request to the test Worker; callApp by default. */
  send: (url: string, init: RequestInit & { method: string }) => Promise<Response>;
}

/**
 * Runs the steps in order: an assignment sets a shell variable (an example id in it made real),
 * a curl command is sent and must get the answer shown: its status, every JSON member shown,
 * and every header shown (a value with `…` only present).
 */
export async function runGuideSteps(steps: Step[], run: GuideRun): Promise<void> {
  const variables = new Map<string, string>();
  for (const { command, answer } of steps) {
    const assignment = /^(?:export )?(\w+)=(\S+)$/.exec(command.text);
    if (assignment) {
      const [, name = "", value = ""] = assignment;
      variables.set(name, run.own.get(name) ?? run.ids.realize(shellWords(value, variables).join(" ")));
      continue;
    }
    // An unquoted here-document (<<EOF) is expanded as a double-quoted string is.
    const stdin = command.stdin === undefined ? undefined : expandVariables(command.stdin, variables);
    const request = await requestOf(shellWords(command.text, variables), stdin, run);
    if (!answer) throw new Error(`The guide shows no answer to ${command.text}`);
    const response = await run.send(request.url, request.init);
    const context = `${command.text}\n${command.stdin ?? ""}`;
    const body = request.init.method === "HEAD" ? "" : await response.clone().text();
    expect(response.status, `${context}\n→ ${body}`).toBe(answer.status);
    if (answer.json !== undefined) expectShown(answer.json, JSON.parse(body), run.ids, context);
    for (const [name, value] of answer.headers ?? []) {
      const actual = response.headers.get(name);
      expect(actual, `${context}: ${name}`).not.toBeNull();
      if (!value.includes("…")) run.ids.match(value, actual, `${context}: ${name}`);
    }
    await response.body?.cancel();
  }
}
