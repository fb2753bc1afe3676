package graph

import (
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Cloud is one Azure cloud: its Graph and its Entra sign-in endpoint, which
// must be set together (a token from one cloud is refused by another's
// Graph).
type Cloud struct {
	Name          string
	GraphURL      string // without the API version
	AuthorityHost string
}

// Scope is the Graph application-permission scope of the cloud.
func (c Cloud) Scope() string { return c.GraphURL + "/.default" }

// Clouds are the national clouds jitflow knows, by name.
var Clouds = []Cloud{
	{"public", "https://graph.microsoft.com", "https://login.microsoftonline.com/"},
	{"usgov", "https://graph.microsoft.us", "https://login.microsoftonline.us/"},
	{"usgov-dod", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us/"},
	{"china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn/"},
}

// LookupCloud finds a cloud by name.
func LookupCloud(name string) (Cloud, error) {
	var names []string
	for _, c := range Clouds {
		if strings.EqualFold(c.Name, name) {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return Cloud{}, fmt.Errorf("cloud %q is not known: use one of %s", name, strings.Join(names, ", "))
}

// Credential kinds.
const (
	// CredentialAuto picks by the AZURE_* environment: a client secret, a
	// client certificate or a federated token file choose that kind;
	// otherwise DefaultAzureCredential's chain runs.
	CredentialAuto              = "auto"
	CredentialClientSecret      = "client-secret"
	CredentialClientCertificate = "client-certificate"
	CredentialManagedIdentity   = "managed-identity"
	CredentialWorkloadIdentity  = "workload-identity"
	CredentialDefault           = "default"
)

var credentialKinds = []string{CredentialAuto, CredentialClientSecret, CredentialClientCertificate,
	CredentialManagedIdentity, CredentialWorkloadIdentity, CredentialDefault}

// CredentialConfig chooses and configures the Azure credential jitflow uses
// for Graph. Its String never shows the secret or the certificate password.
type CredentialConfig struct {
	Kind     string
	TenantID string
	ClientID string
	// ClientSecret is the app registration's secret (client-secret).
	ClientSecret string
	// CertificatePath is a PEM or PKCS#12 file with the certificate and its
	// private key (client-certificate); CertificatePassword opens it.
	CertificatePath     string
	CertificatePassword string
	// ManagedIdentityClientID picks a user-assigned managed identity;
	// empty means the system-assigned one.
	ManagedIdentityClientID string
	// FederatedTokenFile is the workload identity's token file (Kubernetes
	// projects it and sets AZURE_FEDERATED_TOKEN_FILE).
	FederatedTokenFile string
	Cloud              Cloud
	// Transport sends the credential's requests to Entra (or to the
	// managed identity endpoint); nil uses azcore's default client. A proxy
	// or a test sets it.
	Transport policy.Transporter
}

// CredentialConfigFromEnv fills the fields left empty from the standard
// AZURE_* variables: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
// AZURE_CLIENT_CERTIFICATE_PATH, AZURE_CLIENT_CERTIFICATE_PASSWORD,
// AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST.
func CredentialConfigFromEnv(c CredentialConfig, getenv func(string) string) CredentialConfig {
	fill := func(field *string, env string) {
		if *field == "" {
			*field = getenv(env)
		}
	}
	fill(&c.TenantID, "AZURE_TENANT_ID")
	fill(&c.ClientID, "AZURE_CLIENT_ID")
	fill(&c.ClientSecret, "AZURE_CLIENT_SECRET")
	fill(&c.CertificatePath, "AZURE_CLIENT_CERTIFICATE_PATH")
	fill(&c.CertificatePassword, "AZURE_CLIENT_CERTIFICATE_PASSWORD")
	fill(&c.FederatedTokenFile, "AZURE_FEDERATED_TOKEN_FILE")
	if host := getenv("AZURE_AUTHORITY_HOST"); host != "" {
		c.Cloud.AuthorityHost = host
	}
	if c.Kind == "" {
		c.Kind = CredentialAuto
	}
	return c
}

// resolved turns CredentialAuto into the kind the configuration calls for.
func (c CredentialConfig) resolved() CredentialConfig {
	if c.Kind != CredentialAuto && c.Kind != "" {
		return c
	}
	switch {
	case c.ClientSecret != "":
		c.Kind = CredentialClientSecret
	case c.CertificatePath != "":
		c.Kind = CredentialClientCertificate
	case c.FederatedTokenFile != "":
		c.Kind = CredentialWorkloadIdentity
	default:
		c.Kind = CredentialDefault
	}
	return c
}

// String says which credential, tenant, client and cloud, for logs and
// error messages; secrets are never part of it.
func (c CredentialConfig) String() string {
	c = c.resolved()
	parts := []string{"tenant " + orUnset(c.TenantID)}
	switch c.Kind {
	case CredentialClientSecret:
		parts = append(parts, "client "+orUnset(c.ClientID))
	case CredentialClientCertificate:
		parts = append(parts, "client "+orUnset(c.ClientID), "certificate "+c.CertificatePath)
	case CredentialManagedIdentity:
		parts = append(parts, "identity "+orDefault(c.ManagedIdentityClientID, "system-assigned"))
	case CredentialWorkloadIdentity:
		parts = append(parts, "client "+orUnset(c.ClientID), "token file "+c.FederatedTokenFile)
	case CredentialDefault:
		parts = append(parts, "DefaultAzureCredential chain: environment, workload identity, managed identity, Azure CLI")
	}
	return fmt.Sprintf("%s credential (%s; cloud %s, authority %s)", c.Kind, strings.Join(parts, ", "), c.Cloud.Name, c.Cloud.AuthorityHost)
}

func orUnset(s string) string { return orDefault(s, "(not set)") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// NewCredential builds the configured credential, naming the missing or
// wrong setting when it cannot.
func NewCredential(c CredentialConfig) (azcore.TokenCredential, error) {
	c = c.resolved()
	opts := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: c.Cloud.AuthorityHost}, Transport: c.Transport}
	need := func(value, what string) error {
		if value == "" {
			return fmt.Errorf("%s credential: %s is required", c.Kind, what)
		}
		return nil
	}
	switch c.Kind {
	case CredentialClientSecret:
		if err := firstErr(need(c.TenantID, "the tenant id (--azure-tenant-id or AZURE_TENANT_ID)"),
			need(c.ClientID, "the client id (--azure-client-id or AZURE_CLIENT_ID)"),
			need(c.ClientSecret, "the client secret (--client-secret-file or AZURE_CLIENT_SECRET)")); err != nil {
			return nil, err
		}
		return azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	case CredentialClientCertificate:
		if err := firstErr(need(c.TenantID, "the tenant id (--azure-tenant-id or AZURE_TENANT_ID)"),
			need(c.ClientID, "the client id (--azure-client-id or AZURE_CLIENT_ID)"),
			need(c.CertificatePath, "the certificate file (--client-certificate or AZURE_CLIENT_CERTIFICATE_PATH)")); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(c.CertificatePath)
		if err != nil {
			return nil, fmt.Errorf("client-certificate credential: %w", err)
		}
		certs, key, err := azidentity.ParseCertificates(data, []byte(c.CertificatePassword))
		if err != nil {
			return nil, fmt.Errorf("client-certificate credential: %s holds no usable certificate and private key (PEM or PKCS#12, with AZURE_CLIENT_CERTIFICATE_PASSWORD if it has one): %w", c.CertificatePath, err)
		}
		return azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts})
	case CredentialManagedIdentity:
		mi := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if c.ManagedIdentityClientID != "" {
			mi.ID = azidentity.ClientID(c.ManagedIdentityClientID)
		}
		return azidentity.NewManagedIdentityCredential(mi)
	case CredentialWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, TenantID: c.TenantID, ClientID: c.ClientID, TokenFilePath: c.FederatedTokenFile})
	case CredentialDefault:
		return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts, TenantID: c.TenantID})
	}
	return nil, fmt.Errorf("credential kind %q is not known: use one of %s", c.Kind, strings.Join(credentialKinds, ", "))
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
