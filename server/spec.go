package server

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// OpenAPISpec is the OpenAPI 3 document of this API, served at
// /api/openapi.yaml. A test holds it to the routes and the handlers' fields.
//
//go:embed openapi.yaml
var OpenAPISpec []byte

func serveSpec(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/yaml", OpenAPISpec)
}
