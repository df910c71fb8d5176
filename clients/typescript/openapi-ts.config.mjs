// @hey-api/openapi-ts settings for this client (see scripts/generate-clients).
export default {
  input: '../../openapi/openapi.json',
  output: { path: 'src', clean: true },
  plugins: ['@hey-api/typescript', '@hey-api/sdk', '@hey-api/client-fetch'],
  logs: { file: false },
};
