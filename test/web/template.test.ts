import {describe, expect, it} from 'vitest'

import {loadTemplate} from '../../src/web/template.js'

const source = '<p title="{{name}}">{{name}}</p>{{list}}<b>{{count}}</b>'
const load = () => loadTemplate('test.html', {name: 'text', list: 'html', count: 'text'}, source)

describe('templates', () => {
  it('escape text values, insert html values as they are, and fill every place a placeholder stands', () => {
    const page = load().render({name: '<Jeff & "Bev">', list: '<ul><li>one</li></ul>', count: '2'})
    expect(page).toBe(
      '<p title="&lt;Jeff &amp; &quot;Bev&quot;&gt;">&lt;Jeff &amp; &quot;Bev&quot;&gt;</p><ul><li>one</li></ul><b>2</b>',
    )
  })

  it('insert values literally: no $& or $1 patterns, and a value that holds a placeholder stays text', () => {
    const page = load().render({name: '$& $1 $$ $`', list: "$' {{count}} $&", count: '{{name}}'})
    expect(page).toBe('<p title="$&amp; $1 $$ $`">$&amp; $1 $$ $`</p>$\' {{count}} $&<b>{{name}}</b>')
  })

  it('fill values known at start-up for good, and leave the others to each render', () => {
    const template = load()
    const page = template.fill({list: '<i>$&</i>'})
    expect(page.render({name: 'a<b', count: '1'})).toBe('<p title="a&lt;b">a&lt;b</p><i>$&</i><b>1</b>')
    expect(page.source).toBe(source)
    expect(template.render({name: 'x', list: 'y', count: 'z'})).toBe('<p title="x">x</p>y<b>z</b>')
  })

  it('refuse at load a placeholder the template has but no value is given for', () => {
    expect(() => loadTemplate('test.html', {name: 'text', list: 'html'}, source)).toThrow(
      'templates/test.html has an unknown placeholder {{count}}.',
    )
  })

  it('refuse at load a value that has no placeholder in the template', () => {
    expect(() =>
      loadTemplate('test.html', {name: 'text', list: 'html', count: 'text', user: 'text'}, source),
    ).toThrow('templates/test.html has no placeholder {{user}} to fill.')
  })

  it('refuse to fill a placeholder that is already filled', () => {
    const page = load().fill({count: '1'})
    expect(() => (page.fill as (values: Record<string, string>) => unknown)({count: '2'})).toThrow(
      'templates/test.html has no placeholder {{count}} to fill.',
    )
  })
})
