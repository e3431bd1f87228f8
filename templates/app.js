// The secret page's only script, served as /app.js (the CSP allows no inline script). Without it
// the copy button stays hidden and the message can still be selected and copied by hand.
const button = document.getElementById('copy')
const message = document.getElementById('message')
const copyLabel = 'Copy'
const shownMs = 2000

// navigator.clipboard exists only in secure contexts; where it is missing the button stays hidden.
if (button && message && navigator.clipboard) {
  let reset
  const show = (label) => {
    button.textContent = label
    clearTimeout(reset)
    reset = setTimeout(() => (button.textContent = copyLabel), shownMs)
  }
  button.addEventListener('click', () => {
    navigator.clipboard.writeText(message.textContent).then(
      () => show('Copied'),
      () => show('Copy failed: select the text instead'),
    )
  })
  button.hidden = false
}
