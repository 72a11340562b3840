export async function handler (event) {
  for (const record of event.Records ?? []) {
    console.log('deployed event', record.Sns?.Message)
  }
}
