def post_init_hook(env):
    """Give every existing company the shipped default policy."""
    policy = env.ref("account_collections.collection_policy_default", raise_if_not_found=False)
    if policy:
        env["res.company"].search([("collection_policy_id", "=", False)]).write(
            {"collection_policy_id": policy.id}
        )
