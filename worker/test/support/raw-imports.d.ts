/** Vite's `?raw` imports: a file's text, bundled with the test (tests hold guides to the API with them). */
declare module "*?raw" {
  const text: string;
  export default text;
}
