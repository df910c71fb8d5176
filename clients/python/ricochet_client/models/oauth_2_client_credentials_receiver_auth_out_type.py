from enum import StrEnum


class Oauth2ClientCredentialsReceiverAuthOutType(StrEnum):
    OAUTH2CLIENTCREDENTIALS = "oauth2ClientCredentials"

    def __str__(self) -> str:
        return str(self.value)
