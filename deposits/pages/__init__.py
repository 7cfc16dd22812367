"""Server-rendered pages of the registry for analysts and the public, one module per page.

Every page reads through `Caller.of(request)`, so staff logged in to the admin see
`partners` and `internal` records and anonymous visitors `public` ones only; a hidden
deposit answers 404. Queries are the app's (`deposits.querysets`, `deposits.shares`),
HTML is the templates' (templates/deposits/). The cooperation concerning a deposit or a
mineral is drawn by the cooperation app's template tag (`{% cooperation_concerning %}`),
so this package never imports that app.
"""
